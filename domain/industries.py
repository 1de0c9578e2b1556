"""The industries (行业 / 产业领域) the documents name, so a share-of-sector target can be counted.

Yubei art 4 counts the SRDI share of 汽车电子 enterprises; Yubei art 9, Rongchang and Jiangjin name
新能源及智能网联汽车, 高端装备, 新材料, 新一代信息技术, 生物技术 / 生物医药, 节能环保; Yubei art 2
软件和信息服务业; Qianjiang 消费品. Staff type the key or a Chinese name; the register stores the key.
"""

from __future__ import annotations

from domain.errors import InvalidInput, shown
from domain.inputs import option, utf8
from domain.reference import normalise

INDUSTRIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "auto-electronics": ("汽车电子", ("汽车电子及智能终端", "汽车电子元器件", "汽车电子企业")),
    "new-energy-auto": ("新能源及智能网联汽车", ("新能源汽车", "智能网联汽车", "汽车", "汽车摩托车")),
    "equipment": ("高端装备", ("装备", "装备制造", "智能装备", "高端装备制造")),
    "materials": ("新材料", ("材料",)),
    "electronics-info": ("新一代信息技术", ("电子信息", "电子", "信息技术")),
    "software": ("软件和信息服务", ("软件", "软件和信息服务业", "信息服务")),
    "biomedicine": ("生物医药", ("生物技术", "生物医疗", "医药")),
    "energy-environment": ("节能环保", ("环保", "节能")),
    "consumer-goods": ("消费品", ("轻工", "消费品工业")),
    "other": ("其他", ("其它",)),
}
"""key → (Chinese name, aliases)."""

_INDEX = {normalise(name): key for key, (zh, aliases) in INDUSTRIES.items() for name in (key, zh, *aliases)}


def parse_industry(value: object, field: str = "industry") -> str | None:
    """The industry key for a key or Chinese name; None for nothing; else one line naming ``--field``."""
    if value is None or not str(value).strip():
        return None
    written = utf8(str(value), field)
    key = _INDEX.get(normalise(written))
    if key is None:
        names = ", ".join(f"{k} ({zh})" for k, (zh, _) in INDUSTRIES.items())
        raise InvalidInput(f"{option(field)} {shown(written)} is unknown; use one of: {names}")
    return key


def industry_label(key: str | None, lang: str = "en") -> str:
    """The display name of an industry key (the key itself in English)."""
    if key is None:
        return "-"
    return INDUSTRIES[key][0] if lang == "zh" and key in INDUSTRIES else key
