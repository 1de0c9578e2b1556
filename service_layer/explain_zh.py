"""`explain --lang zh`: the explanation of an entitlement in Chinese throughout.

The engine writes its arithmetic, notes and figure names in English (they are stored with each
entitlement and must read the same forever). This module renders a stored explanation in Chinese
when it is read: every template the engine uses has a pattern here, money stays as written, track,
size, owner and status keys become their Chinese names, and a reading shows the document's own
wording. A text no pattern knows is left as it is rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from domain.labels import label
from domain.policy.model import Policy

STATUS_ZH = {
    "accrued": "应付",
    "awaiting-approval": "待核定",
    "pending-data": "待补数据",
    "approved": "已核定",
    "partly-paid": "部分拨付",
    "paid": "已拨付",
    "recovery-due": "待追回",
    "reversed": "已撤销",
    "not-eligible": "不符合条件",
}
KIND_ZH = {
    "award": "奖励",
    "subsidy": "补助",
    "rent-subsidy": "房租补贴",
    "tax-relief": "税收减免",
    "matching": "配套补助",
}
EVENT_ZH = {
    "EntitlementCreated": "产生",
    "EntitlementResolved": "数据到齐后核定",
    "EntitlementApproved": "审批核定",
    "EntitlementPaid": "拨付",
    "EntitlementReversed": "撤销",
    "EntitlementAdjusted": "调整",
    "MilestoneRecorded": "里程碑",
    "FinancialsReported": "财务数据",
    "LeaseReported": "租赁",
    "TalentContributionReported": "人才贡献",
    "RdSubsidyReported": "市级研发补助",
    "PatentGranted": "专利授权",
    "DemonstrationSelected": "示范企业",
    "EventRetracted": "更正撤回",
    "EnterpriseDetailsChanged": "企业信息变更",
    "PolicyActivated": "政策启用",
}
VALUE_ZH = {
    "micro": "微型",
    "small": "小型",
    "medium": "中型",
    "state": "国有",
    "private": "社会闲置",
    "none": "无",
    "applies": "适用",
    "not-applies": "不适用",
    "arithmetic": "算术平均",
    "compound": "复合增长",
    "capped-at-last-year": "以上年为限",
    "whole-stock": "全部存量",
    "ever": "历史上首次",
    "within-policy": "政策期内首次",
    "in-order": "按达到顺序给予至总额用完",
    "stage-amounts": "各阶段按所列金额给予",
    "max-for-every-tier": "各层级均按最高名额",
    "slots-by-track": "按称号分配名额",
    "once-per-enterprise": "每家企业一次",
    "each-certification": "每次认定",
    "previous-year": "上一年度",
    "report-year": "报告所属年度",
    "same-year": "同一年度",
}

_M = r"([\d,.]+)"  # an amount as the engine writes it (100,000 / 1,234.50)
_D = r"(\d{4}-\d{2}-\d{2})"
_Y = r"(\d{4})"
_P = r"(-?[\d.]+%)"

Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


def _rules(pairs: Iterable[tuple[str, str | Callable[[re.Match[str]], str]]]) -> list[Rule]:
    return [(re.compile(pattern), to) for pattern, to in pairs]


def _track(m: re.Match[str], group: int = 1) -> str:
    return label(m.group(group), "zh", namespace="track")


def _reversed(m: re.Match[str]) -> str:
    what = EVENT_ZH.get(m.group(1), m.group(1))
    recover = f"；已拨付 {m.group(4)} 元需追回" if m.group(4) else ""
    return f"已撤销：触发事件（{what} {m.group(2)}）已撤回（{m.group(3)}）{recover}"


def _granted(m: re.Match[str]) -> str:
    year = f"，{m.group(3)} 年" if m.group(3) else ""
    return f"已按 {m.group(1)} 给予过（{zh_value(m.group(2))}{year}，兑现事项 {m.group(4)}）"


TEXT = _rules(
    [
        # notes
        (r"pending-data: waiting for ([^;]+)", lambda m: f"待补数据：等待{zh_list(m.group(1))}"),
        (r"tax relief, no payout \(applied by (.+?)\): [^;]*", r"税收减免，不拨付资金（由\1执行）"),
        (r"amount not stated: set at approval", "文件未规定金额：审批时核定"),
        (rf"ceiling: up to {_M}, the amount is set at approval", r"上限：最高 \1 元，审批时核定金额"),
        (rf"partly paid: {_M} of {_M} yuan", r"部分拨付：\2 元中已拨付 \1 元"),
        (r"private idle space: reviewed by (\S+) before payment", r"社会闲置厂房：\1复核后拨付"),
        (rf"capped: at most {_M} a year; {_M} of {_M}", r"已按上限：每年最多 \1 元；\3 元中给予 \2 元"),
        (
            rf"capped: (.+); {_M} of {_M}",
            lambda m: f"已按上限：{zh_text(m.group(1))}；{m.group(3)} 元中给予 {m.group(2)} 元",
        ),
        (r"not eligible: (.+)", lambda m: f"不符合条件：{zh_text(m.group(1))}"),
        (r"nothing owed: (.+)", lambda m: f"无应付金额：{zh_text(m.group(1))}"),
        (
            r"re-opened: (.+); waiting for the figures again",
            lambda m: f"重新待定：{zh_text(m.group(1))}；等待补充数据",
        ),
        (
            r"reversed: its trigger (\w+) (\S+) was retracted \((.*)\)"
            r"(?:; ([\d,.]+) yuan already paid is to be recovered)?",
            _reversed,
        ),
        (r"reversed: (.+)", lambda m: f"已撤销：{zh_text(m.group(1))}"),
        (r"its trigger (.+)", lambda m: f"其触发事件：{zh_what(m.group(1))}"),
        (
            r"no longer owed after (.+?): (.+)",
            lambda m: f"{zh_what(m.group(1))}之后不再应付：{zh_text(m.group(2))}",
        ),
        (r"decided again after (.+)", lambda m: f"{zh_what(m.group(1))}之后重新核定"),
        (r"([\d,.]+) yuan already paid is to be recovered", r"已拨付 \1 元需追回"),
        (
            rf"recovery due: {_M} yuan paid beyond the {_M} yuan now owed",
            r"应追回：已拨付 \1 元，超出现应付的 \2 元",
        ),
        (
            rf"recovery due: {_M} yuan approved beyond the {_M} yuan now owed",
            r"应追回：已核定 \1 元，超出现应付的 \2 元",
        ),
        (r"outside the reach (\S+)–(\S+)", r"超出政策适用期（\1 至 \2）"),
        (
            r"already granted under (\S+) for (.+?)(?: for (\d{4}))? \(entitlement (\S+)\)",
            _granted,
        ),
        # conditions
        (rf"holds a valid (\S+) title on {_D}", lambda m: f"{m.group(2)} 持有有效的{_track(m)}称号"),
        (rf"no valid (.+) title on {_D}", lambda m: f"{m.group(2)} 未持有有效的{zh_tracks(m.group(1))}称号"),
        (r"size (\w+) is ([\w/]+)", lambda m: f"企业规模{zh_value(m.group(1))}，属于{zh_sizes(m.group(2))}"),
        (
            rf"size (\w+) on {_D} is not ([\w/]+)",
            lambda m: f"{m.group(2)} 企业规模{zh_value(m.group(1))}，不属于{zh_sizes(m.group(3))}",
        ),
        (r"the growth needs revenue for (.+)", lambda m: f"计算增速需要{zh_list(m.group(1))}主营业务收入"),
        (r"growth from a revenue of zero or less is undefined", "基数年主营业务收入为零或负数，增速无法计算"),
        (rf"growth {_Y} over {_Y}: {_P}", r"\1 年较 \2 年增长 \3"),
        (rf"compound growth {_Y}–{_Y}: (.+)", r"\1–\2 年复合增长率：\3"),
        (r"average \(arithmetic\): (.+)", r"算术平均：\1"),
        (rf"{_P} > {_P}: condition met", r"\1 > \2：条件满足"),
        (rf"{_P} ≤ {_P}: condition not met", r"\1 ≤ \2：条件不满足"),
        (rf"revenue growth {_P} is not above {_P}", r"主营业务收入增速 \1 未超过 \2"),
        (rf"R&D expense {_Y} {_M} is at least {_M}", r"\1 年研发费用 \2 元，不低于 \3 元"),
        (rf"R&D expense {_Y} {_M} is below {_M}", r"\1 年研发费用 \2 元，低于 \3 元"),
        (rf"R&D expense {_Y} {_M} is not at least {_M}", r"\1 年研发费用 \2 元，低于 \3 元"),
        (rf"R&D expense {_Y} {_M} is not below {_M}", r"\1 年研发费用 \2 元，不低于 \3 元"),
        # amounts
        (rf"fixed amount {_M}", r"定额 \1 元"),
        (rf"(\S+): fixed amount {_M}", lambda m: f"{_track(m)}：定额 {m.group(2)} 元"),
        (r"rent ([\d.]+) 元/㎡·月 is not above ([\d.]+) 元/㎡·月", r"租金 \1 元/㎡·月，未超过 \2 元/㎡·月"),
        (r"(.+) × (\d+) months = (.+)", r"\1 × \2 个月 = \3"),
        (rf"yearly cap {_M} for {_Y}, {_M} already granted: {_M}", r"\2 年度上限 \1 元，已给予 \3 元：\4 元"),
        (r"stock = this year = (.+)", r"存量 = 本年 = \1"),
        (r"stock = min\(this year, last year\) = (.+)", r"存量 = min(本年, 上年) = \1"),
        (r"increment = max\((.+)", r"增量 = max(\1"),
        (r"(.+) × municipal subsidy (.+)", r"\1 × 市级研发补助 \2"),
        (
            r"reward year (\d+) of (\d+) \(from (\d{4})\); talent (\d+) of (\d+)",
            r"奖励第 \1 年（共 \2 年，自 \3 年起）；人才名额 \4 / \5",
        ),
        (
            rf"(.+): {_M} already, {_M} left",
            lambda m: f"{zh_text(m.group(1))}：已用 {m.group(2)} 元，剩余 {m.group(3)} 元",
        ),
        (rf"(\S+) (.+) stages total at most {_M}", r"\1 \2各阶段合计不超过 \3 元"),
        (r"no amount for track (\S+)", lambda m: f"{_track(m)}无规定金额"),
        (r"(\S+) space is not covered", lambda m: f"{zh_value(m.group(1))}厂房不在支持范围"),
        (r"all (\d+) talent slots \(人才支持名额\) are named already", r"\1 个人才支持名额已满"),
        (
            r"(.+): the (\d+)-year reward period (\d{4})–(\d{4}) has ended",
            r"\1：\2 年奖励期（\3–\4 年）已结束",
        ),
    ]
)
NAMES = _rules(
    [
        (r"enterprise size", "企业规模"),
        (rf"size on {_D}", r"\1 企业规模"),
        (rf"titles held on {_D}", r"\1 持有称号"),
        (rf"revenue {_Y}", r"\1 年主营业务收入"),
        (rf"R&D expense {_Y}", r"\1 年研发费用"),
        (rf"municipal subsidy {_Y}", r"\1 年市级研发补助"),
        (rf"contribution {_Y}", r"\1 年工资薪金综合贡献"),
        (r"area", "面积"),
        (r"rent", "租金"),
        (r"months", "月数"),
        (r"owner", "厂房产权"),
        (r"person", "人才"),
        (r"size", "企业规模"),
    ]
)


def _first(rules: list[Rule], text: str) -> str | None:
    for pattern, to in rules:
        m = pattern.fullmatch(text)
        if m is not None:
            return to(m) if callable(to) else m.expand(to)
    return None


def zh_text(text: str) -> str:
    """One sentence of the engine (a step, a note, a reason) in Chinese; parts joined by '; '."""
    whole = _first(TEXT, text)
    if whole is not None:
        return whole
    if "; " in text:
        return "；".join(zh_text(part) for part in text.split("; "))
    return _first(NAMES, text) or text.replace(" yuan", " 元")


def zh_what(text: str) -> str:
    """What changed (`FinancialsReported <id>`, `LeaseReported <id> was retracted (…)`, a policy)."""
    m = re.fullmatch(r"(\w+) (\S+) was retracted \((.*)\)", text)
    if m is not None:
        return f"{EVENT_ZH.get(m.group(1), m.group(1))} {m.group(2)} 已撤回（{m.group(3)}）"
    m = re.fullmatch(r"policy (\S+) activated", text)
    if m is not None:
        return f"政策 {m.group(1)} 启用"
    m = re.fullmatch(r"(\w+) (\S+)", text)
    if m is not None and m.group(1) in EVENT_ZH:
        return f"{EVENT_ZH[m.group(1)]} {m.group(2)}"
    return text


def zh_name(name: str) -> str:
    """A figure's or missing figure's name (`revenue 2023` → `2023 年主营业务收入`)."""
    return _first(NAMES, name) or name


def zh_value(value: str) -> str:
    """A figure's value: sizes, owners and tracks by their Chinese names; money as written."""
    if value in VALUE_ZH:
        return VALUE_ZH[value]
    if ", " in value:
        return "、".join(zh_value(v) for v in value.split(", "))
    return label(value, "zh", namespace="track") if re.fullmatch(r"[a-z-]+", value) else value


def zh_tracks(text: str) -> str:
    return "或".join(label(t, "zh", namespace="track") for t in text.split(" or "))


def zh_sizes(text: str) -> str:
    return "/".join(VALUE_ZH.get(s, s) for s in text.split("/"))


def zh_list(text: str) -> str:
    return "、".join(zh_name(part) for part in text.split(", "))


def in_chinese(doc: Mapping[str, Any], policy: Policy | None) -> dict[str, Any]:
    """The `explain` document with every text in Chinese (keys and ids unchanged).

    `summary` becomes the article's own words; a reading is named by the document's wording it
    reads (its key when the data has none); `status_label` names the status in Chinese (`status`
    keeps the ledger's key).
    """
    out = dict(doc)
    out["summary"] = doc.get("quote") or doc.get("summary", "")
    out["status_label"] = STATUS_ZH.get(str(doc.get("status")), str(doc.get("status")))
    out["kind_label"] = KIND_ZH.get(str(doc.get("kind")), str(doc.get("kind")))
    wording = {r.name: r.wording_zh for r in policy.readings} if policy is not None else {}
    out["readings"] = {
        (f"「{wording[name]}」" if wording.get(name) else name): VALUE_ZH.get(str(v), str(v))
        for name, v in dict(doc.get("readings") or {}).items()
    }
    out["figures"] = {zh_name(str(k)): zh_value(str(v)) for k, v in dict(doc.get("figures") or {}).items()}
    out["steps"] = [zh_text(str(s)) for s in doc.get("steps") or []]
    out["missing"] = [zh_name(str(m)) for m in doc.get("missing") or []]
    out["note"] = zh_text(str(doc.get("note") or "")) if doc.get("note") else ""
    out["history"] = [_step(step) for step in doc.get("history") or []]
    out["adjustments"] = [_adjustment(a) for a in doc.get("adjustments") or []]
    return out


def _adjustment(adj: Mapping[str, Any]) -> dict[str, Any]:
    """A correction of the amount with its reason, statuses and both arithmetics in Chinese."""
    done = dict(adj)
    done["reason"] = zh_text(str(adj.get("reason") or ""))
    for key in ("status_from", "status_to"):
        if adj.get(key):
            done[key] = STATUS_ZH.get(str(adj[key]), str(adj[key]))
    for side in ("before", "after"):
        part = dict(adj.get(side) or {})
        done[side] = {
            "figures": {
                zh_name(str(k)): zh_value(str(v)) for k, v in dict(part.get("figures") or {}).items()
            },
            "steps": [zh_text(str(s)) for s in part.get("steps") or []],
        }
    return done


def _step(step: Mapping[str, Any]) -> dict[str, Any]:
    done = dict(step)
    done["event"] = EVENT_ZH.get(str(step.get("event")), str(step.get("event")))
    if "status" in step:
        done["status"] = STATUS_ZH.get(str(step["status"]), str(step["status"]))
    if step.get("reason"):
        done["reason"] = zh_text(str(step["reason"]))
    return done
