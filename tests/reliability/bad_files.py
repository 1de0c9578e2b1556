"""The malformed files of the bad-input catalogue: CSV imports and policy files, one per case (the file
name says what is wrong), and paths an import or an export must refuse."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.support import uscc

BUILTIN = Path(__file__).resolve().parents[2] / "domain" / "policies" / "yubei-2024.toml"


def policy_with(line_from: str, line_to: str) -> str:
    text = BUILTIN.read_text(encoding="utf-8")
    assert line_from in text
    return text.replace(line_from, line_to, 1)


def write_bad_files(folder: Path) -> None:
    """Malformed CSV and policy files, one per case (the file name says what is wrong)."""
    header = "uscc,name,district,milestone,on,ref\n"
    ok_line = f"{uscc('CXW', 1)},重庆导入科技有限公司,yubei,,,\n"
    files: dict[str, bytes | str] = {
        "bad-uscc-line3.csv": header + ok_line + "91500000MA5U0000AX,重庆坏码有限公司,yubei,,,\n",
        "bad-district-line2.csv": header + f"{uscc('CXW', 2)},重庆某某有限公司,chengdu,,,\n",
        "bad-date-line4.csv": header
        + ok_line
        + f"{uscc('CXW', 1)},,,innovative-sme.certified,2021-05-01,\n"
        + f"{uscc('CXW', 1)},,,srdi-municipal.certified,2024-02-30,\n",
        "compact-date-line3.csv": header
        + ok_line
        + f"{uscc('CXW', 1)},,,innovative-sme.certified,20210501,\n",
        "future-date.csv": header + ok_line + f"{uscc('CXW', 1)},,,innovative-sme.certified,2999-01-01,\n",
        "bad-milestone.csv": header + ok_line + f"{uscc('CXW', 1)},,,innovative-sme.approved,2021-05-01,\n",
        "milestone-without-date.csv": header + ok_line + f"{uscc('CXW', 1)},,,innovative-sme.certified,,\n",
        "too-many-values.csv": header + ok_line.rstrip("\n") + ",extra,more\n",
        "unknown-column.csv": "uscc,name,district,colour\n"
        + f"{uscc('CXW', 1)},重庆某某有限公司,yubei,red\n",
        "no-header.csv": ok_line,
        "empty.csv": "",
        "blank-lines-only.csv": "\n \n\n",
        "not-utf8.csv": header.encode()
        + f"{uscc('CXW', 1)},".encode()
        + "重庆".encode("gbk")
        + b",yubei,,,\n",
        "sql-district.csv": header + f"{uscc('CXW', 3)},重庆某某有限公司,yubei'; DROP TABLE events; --,,,\n",
        "unregistered-milestone.csv": header + f"{uscc('CXW', 4)},,,hnte.applied,2024-01-01,\n",
        "policy-broken.toml": "key = 'yubei-2024'\n[[rules]\nid = 'YB-1'\n",
        "policy-unknown-field.toml": policy_with("data_version = 1\n", "data_version = 1\nfrobnicate = 3\n"),
        "policy-bad-decimal.toml": policy_with("amount = 100000\n", 'amount = "12x3"\n'),
        "policy-negative.toml": policy_with("amount = 100000\n", "amount = -5\n"),
        "policy-other-key.toml": policy_with('key = "yubei-2024"', 'key = "yubei-2099"'),
        "policy-not-utf8.toml": policy_with("data_version = 1\n", "data_version = 1\n").encode("gb18030"),
        "policy-empty.toml": "",
    }
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    write_hostile_files(folder)


def write_hostile_files(folder: Path) -> None:
    """Paths an import or an export must refuse, and policy files that would not fit a column."""
    import os

    (folder / "existing.csv").write_text("kept\n", encoding="utf-8")
    (folder / "link-to-existing.csv").symlink_to(folder / "existing.csv")
    (folder / "dangling-link").symlink_to(folder / "nowhere")
    (folder / "link-to-zero.csv").symlink_to("/dev/zero")
    os.mkfifo(folder / "a-fifo")
    with (folder / "huge.csv").open("wb") as huge:  # sparse: 1 GiB + 1 byte on no disk at all
        huge.truncate(1024 * 1024 * 1024 + 1)
    policies = {
        "policy-article-21.toml": ('article = "5"\n', 'article = "' + "5" * 21 + '"\n'),
        "policy-article-newline.toml": ('article = "5"\n', 'article = "5\\n6"\n'),
        "policy-summary-nul.toml": ("summary = ", 'summary = "a\\u0000b"\nxsummary = '),
        "policy-title-escape.toml": ("title = ", 'title = "\\u001b[2J"\nxtitle = '),
        "policy-amount-above-the-bound.toml": ("amount = 100000\n", "amount = 1000000000000.01\n"),
        "policy-rule-id-long.toml": ('id = "YB-5a"', 'id = "YB-' + "5" * 30 + '"'),
        "policy-district-long.toml": ('districts = ["yubei"]', 'districts = ["' + "y" * 51 + '"]'),
    }
    for name, (line_from, line_to) in policies.items():
        (folder / name).write_text(policy_with(line_from, line_to), encoding="utf-8")
