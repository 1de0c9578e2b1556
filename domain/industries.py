"""The industries (行业 / 产业领域) the documents name, so a share-of-sector target can be counted.

Yubei art 4 counts the SRDI share of 汽车电子 enterprises; Yubei art 9, Rongchang and Jiangjin name
新能源及智能网联汽车, 高端装备, 新材料, 新一代信息技术, 生物技术 / 生物医药, 节能环保; Yubei art 2
软件和信息服务业; Qianjiang 消费品. Staff type the key, its Chinese name (the label catalogue's
``industry`` section) or another wording the lists use (``domain/data/industries.toml``); the
register stores the key.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from domain.errors import InvalidInput, shown
from domain.inputs import option, utf8
from domain.labels import catalogue_section, label
from domain.reference import normalise


def industries() -> tuple[str, ...]:
    """Every industry key, in the catalogue's order."""
    return tuple(catalogue_section("industry"))


@cache
def _index() -> dict[str, str]:
    """Every name staff may type (key, Chinese name, aliases), normalised → the key."""
    raw = resources.files("domain").joinpath("data", "industries.toml").read_text(encoding="utf-8")
    aliases: dict[str, list[str]] = tomllib.loads(raw)
    return {
        normalise(name): key
        for key in industries()
        for name in (key, label(key, "zh", namespace="industry"), *aliases.get(key, []))
    }


def parse_industry(value: object, field: str = "industry") -> str | None:
    """The industry key for a key or Chinese name; None for nothing; else one line naming ``--field``."""
    if value is None or not str(value).strip():
        return None
    written = utf8(str(value), field)
    key = _index().get(normalise(written))
    if key is None:
        names = ", ".join(f"{k} ({label(k, 'zh', namespace='industry')})" for k in industries())
        raise InvalidInput(f"{option(field)} {shown(written)} is unknown; use one of: {names}")
    return key


def industry_label(key: str | None, lang: str = "en") -> str:
    """The display name of an industry key (the key itself in English)."""
    if key is None:
        return "-"
    return label(key, lang, namespace="industry")
