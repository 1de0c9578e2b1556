"""The plan of one demo enterprise: what happens to it from 2019 to the demo's today, as commands.

Plausible, not statistics: most enterprises report figures every year, about half become
创新型中小企业, some climb to 市级专精特新 and a few to 小巨人 or 单项冠军; reviews are sometimes failed,
a few enterprises go to the capital market, titles lapse when not renewed. Each track is planned
in date order through `TitleState` itself, so ladder prerequisites hold on the dates chosen, and
everything is then replayed through the real handlers (which would refuse anything illegal).

Deterministic: each enterprise has its own `random.Random` seeded from (seed, index), so the plan
of enterprise 17 does not depend on the chunk size or on how many enterprises are generated.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain import commands as c
from domain.memberships import MembershipState
from domain.titles import ListingState, TitleState
from domain.uscc import ALPHABET, make_uscc

TODAY = date(2026, 11, 1)
"""The demo's fixed "today": no demo event is dated after it, so runs are reproducible."""
DISTRICTS = {"yubei": 25, "liangjiang": 25, "jiangjin": 20, "rongchang": 15, "qianjiang": 15}
DIVISION = {"yubei": "500112", "liangjiang": "500000", "jiangjin": "500116", "rongchang": "500153"}
DIVISION["qianjiang"] = "500114"  # 行政区划代码, characters 3-8 of a USCC
QIANJIANG_UNITS = "区科技局 正阳工业园区管委会 区经济信息委 区发展改革委 区招商投资局 区农业农村委".split()  # noqa: SIM905
BRANDS = "恒达 华宇 博创 金石 鑫源 瑞丰 云启 智联 宏图 天成 中科 新锐 汇通 远景 长鑫 渝丰 巴山 江陵".split()  # noqa: SIM905
TRADES = "精密机械 汽车电子 生物医药 新材料 智能装备 软件科技 电子科技 环保科技 食品 陶瓷 模具".split()  # noqa: SIM905
INDUSTRY = {
    "精密机械": "equipment",
    "汽车电子": "auto-electronics",
    "生物医药": "biomedicine",
    "新材料": "materials",
    "智能装备": "equipment",
    "软件科技": "software",
    "电子科技": "electronics-info",
    "环保科技": "energy-environment",
    "食品": "consumer-goods",
    "陶瓷": "materials",
    "模具": "equipment",
}
"""The industry (domain.industries) of each trade in a demo name."""
DESIGNATIONS = {"digital-workshop": 0.15, "smart-factory": 0.04, "green-factory": 0.08}
"""Chance that an enterprise of Rongchang, Liangjiang or Jiangjin gets each designation."""


@dataclass(order=True)
class Step:
    """One command on its business date; ``seq`` keeps the planned order among same-day steps."""

    on: date
    seq: int
    command: Any = field(compare=False)
    system: bool = field(default=False, compare=False)
    actor: str = field(default="", compare=False)
    key: str | None = field(default=None, compare=False)  # name of the event this step appends
    retracts: str | None = field(default=None, compare=False)  # key of the event this step retracts


@dataclass
class Plan:
    uscc: str
    district: str
    steps: list[Step] = field(default_factory=list)


def _days(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(days=rng.randint(low, high))


class _Planner:
    def __init__(self, seed: int, index: int) -> None:
        self.rng = random.Random(f"srdi-demo:{seed}:{index}")
        rng = self.rng
        self.district = rng.choices(list(DISTRICTS), weights=list(DISTRICTS.values()))[0]
        digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
        body = "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:9])
        self.uscc = make_uscc("91" + DIVISION[self.district] + body)
        self.actor = f"demo-{self.district}"
        self.plan = Plan(self.uscc, self.district)
        self.titles: dict[str, TitleState] = {}
        self.members: dict[str, MembershipState] = {}
        self.seq = 0
        self.registered: date | None = None

    def add(
        self,
        on: date,
        command: Any,
        *,
        system: bool = False,
        key: str | None = None,
        retracts: str | None = None,
    ) -> None:
        self.seq += 1
        actor = "scheduler" if system else self.actor
        # History taken over may predate the registration; it is still entered after it.
        when = max(on, self.registered) if self.registered else on
        self.plan.steps.append(Step(when, self.seq, command, system, actor, key, retracts))

    def milestone(self, track: str, action: str, on: date, *, system: bool = False) -> bool:
        """Plan a milestone if it is on time and legal for the track as planned so far."""
        if on > TODAY:
            return False
        title = self.titles.get(track, TitleState(track))
        try:
            self.titles[track] = title.advance(action, on, system=system)
        except Exception:
            return False
        command = c.RecordMilestone(
            uscc=self.uscc, track=track, action=action, on=on, ref=f"{track}-{on.year}"
        )
        self.add(on, command, system=system)
        return True

    def member(self, track: str, action: str, on: date) -> bool:
        """Plan a pool or designation milestone if it is on time and legal as planned so far."""
        if on > TODAY:
            return False
        state = self.members.get(track, MembershipState(track))
        try:
            self.members[track] = state.advance(action, on)
        except Exception:
            return False
        self.add(on, c.RecordMilestone(uscc=self.uscc, track=track, action=action, on=on))
        return True

    def valid(self, track: str, on: date) -> bool:
        title = self.titles.get(track)
        return title is not None and title.holds_valid(on)

    # -- the enterprise --------------------------------------------------------------------------
    def build(self) -> Plan:
        rng = self.rng
        entry = rng.choices([2019, 2020, 2021, 2022, 2023, 2024], weights=[40, 15, 15, 12, 10, 8])[0]
        registered = date(entry, 1, 1) + _days(rng, 0, 170)
        department = rng.choice(QIANJIANG_UNITS) if self.district == "qianjiang" else None
        trade = rng.choice(TRADES)
        name = f"重庆{rng.choice(BRANDS)}{trade}有限公司"
        size = rng.choices(["micro", "small", "medium"], weights=[30, 50, 20])[0]
        self.registered = registered
        self.add(
            registered,
            c.RegisterEnterprise(
                uscc=self.uscc,
                name=name,
                district=self.district,
                department=department,
                size=size,
                industry=INDUSTRY[trade],
                on=registered,
            ),
        )
        self.financials(entry, registered)
        self.tech_sme(registered)
        self.three_year("innovative-sme", registered, chance=0.6, renew=0.85)
        self.three_year("hnte", registered, chance=0.35, renew=0.8)
        self.climb("srdi-municipal", "innovative-sme", chance=0.45, renew=0.8)
        self.climb("little-giant", "srdi-municipal", chance=0.3, renew=0.85)
        self.climb("champion", "little-giant", chance=0.08, renew=0.9)
        if self.valid_ever("srdi-municipal") and rng.random() < 0.3:
            self.listing()
        self.reports()
        self.measures(registered)
        self.plan.steps.sort()
        return self.plan

    def valid_ever(self, track: str) -> bool:
        title = self.titles.get(track)
        return title is not None and bool(title.periods)

    def financials(self, entry: int, registered: date) -> None:
        rng = self.rng
        revenue = Decimal(int(rng.lognormvariate(17.0, 0.9)))  # median about 24 million yuan
        for year in range(entry - 1, 2026):
            growth = max(-0.3, min(0.8, rng.gauss(0.12, 0.14)))
            revenue = (revenue * Decimal(str(round(1 + growth, 4)))).quantize(Decimal(1))
            rd = (revenue * Decimal(str(round(rng.uniform(0.02, 0.09), 4)))).quantize(Decimal(1))
            on = max(date(year + 1, 3, 1) + _days(rng, 0, 90), registered)
            if on > TODAY or rng.random() < 0.05:
                continue  # some years are never reported
            self.add(on, c.ReportFinancials(uscc=self.uscc, year=year, revenue=revenue, rd_expense=rd, on=on))
            if rng.random() < 0.01:  # a typo, retracted and reported again a few days later
                wrong = c.ReportFinancials(uscc=self.uscc, year=year, revenue=revenue * 10, on=on)
                key = f"typo-{year}"
                self.add(on, wrong, key=key)
                fixed = on + _days(rng, 1, 20)
                if fixed <= TODAY:
                    retract = c.Retract(event_id=key, reason="revenue typed with an extra zero", on=fixed)
                    self.add(fixed, retract, retracts=key)

    def tech_sme(self, registered: date) -> None:
        rng = self.rng
        if rng.random() > 0.55:
            return
        on = registered + _days(rng, 30, 700)
        stay = True
        while on <= TODAY:
            title = self.titles.get("tech-sme", TitleState("tech-sme"))
            if stay:
                action = "review-passed" if title.state == "certified" else "certified"
                self.milestone("tech-sme", action, on)
                on = on + timedelta(days=365) - _days(rng, 1, 30)
            else:
                if title.state == "certified" and title.valid_until is not None:
                    self.milestone("tech-sme", "expired", title.valid_until + timedelta(days=1), system=True)
                on = on + timedelta(days=365) + _days(rng, 0, 60)
            stay = rng.random() < (0.85 if stay else 0.35)

    def three_year(self, track: str, registered: date, *, chance: float, renew: float) -> None:
        if self.rng.random() > chance:
            return
        start = registered + _days(self.rng, 20, 1600)
        if self.milestone(track, "certified", start):
            self.reviews(track, renew)

    def reviews(self, track: str, renew: float) -> None:
        """Review before each period ends: passed, failed (the title is revoked), or left to lapse."""
        rng = self.rng
        while True:
            title = self.titles[track]
            if title.state != "certified" or title.valid_until is None:
                return
            roll = rng.random()
            if roll < renew:
                if not self.milestone(track, "review-passed", title.valid_until - _days(rng, 10, 80)):
                    return
            elif roll < renew + (1 - renew) * 0.7:
                self.milestone(track, "review-failed", title.valid_until - _days(rng, 10, 80))
                return
            else:
                self.milestone(track, "expired", title.valid_until + timedelta(days=1), system=True)
                return

    def climb(self, track: str, below: str, *, chance: float, renew: float) -> None:
        """Apply for the next rung while the lower title is valid; most applications succeed."""
        lower = self.titles.get(below)
        if lower is None or not lower.periods or self.rng.random() > chance:
            return
        applied = lower.periods[0].start + _days(self.rng, 120, 900)
        if not self.valid(below, applied) or not self.milestone(track, "applied", applied):
            return
        decided = applied + _days(self.rng, 60, 150)
        if (
            self.rng.random() < 0.8
            and self.valid(below, decided)
            and self.milestone(track, "certified", decided)
        ):
            self.reviews(track, renew)
        else:
            self.milestone(track, "revoked", decided)  # application not granted

    def listing(self) -> None:
        rng = self.rng
        state, on = ListingState(), self.titles["srdi-municipal"].periods[0].start + _days(rng, 60, 500)
        path = [("otc-listed", 1.0), ("neeq-filed", 0.6), ("neeq-listed", 0.85), ("neeq-select", 0.3)]
        path += [("ipo-tutoring", 0.35), ("ipo-accepted", 0.6), ("ipo-listed", 0.7)]
        for action, chance in path:
            if rng.random() > chance:
                if action in ("otc-listed", "neeq-filed", "neeq-listed", "neeq-select"):
                    continue  # skip to tutoring
                return
            try:
                state = state.advance(action, on, system=False)
            except Exception:
                continue
            if on > TODAY:
                return
            self.add(on, c.RecordMilestone(uscc=self.uscc, track="listing", action=action, on=on))
            on = on + _days(rng, 120, 500)

    def reports(self) -> None:
        rng, u = self.rng, self.uscc
        holder = self.valid_ever("srdi-municipal") or self.valid_ever("little-giant")
        if self.district == "yubei" and holder and rng.random() < 0.5:
            area, owner = Decimal(rng.randrange(300, 8000)), rng.choice(["state", "state", "private"])
            for year in range(2023, 2026):
                on = date(year + 1, 1, 10) + _days(rng, 0, 50)
                rent = Decimal(rng.randrange(12, 46))
                lease = c.ReportLease(
                    uscc=u, year=year, area_m2=area, rent_per_m2_month=rent, months=12, owner=owner, on=on
                )
                self.add(on, lease)
        if self.district == "liangjiang" and holder and rng.random() < 0.5:
            for person in range(rng.randint(1, 4)):
                for year in range(2023, 2026):
                    on = date(year + 1, 2, 1) + _days(rng, 0, 40)
                    amount = Decimal(rng.randrange(20_000, 300_000))
                    self.add(
                        on,
                        c.ReportTalent(
                            uscc=u, person=f"T{person + 1:02d}", year=year, contribution=amount, on=on
                        ),
                    )
        if self.district == "liangjiang" and rng.random() < 0.3:
            for n in range(rng.randint(1, 3)):
                on = date(rng.randint(2020, 2026), 1, 1) + _days(rng, 0, 250)
                if on <= TODAY:
                    self.add(
                        on,
                        c.ReportPatent(uscc=u, number=f"ZL{on.year}1{rng.randrange(10**7):07d}.{n}", on=on),
                    )
        if self.district == "rongchang" and rng.random() < 0.3:
            for year in range(2022, 2026):
                if rng.random() < 0.5:
                    on = date(year, 9, 1) + _days(rng, 0, 90)
                    amount = Decimal(rng.randrange(50_000, 2_000_000))
                    self.add(on, c.ReportRdSubsidy(uscc=u, year=year, amount=amount, on=on))
        if self.district == "jiangjin" and holder:
            for year in range(2022, 2026):
                if rng.random() < 0.15:
                    on = date(year, 11, 1) + _days(rng, 0, 50)
                    self.add(on, c.RecordDemonstration(uscc=u, year=year, on=on))

    def measures(self, registered: date) -> None:
        """Pools, designations, retrofits, benchmarks, specialists, incubation, projects, standards."""
        rng, u, district = self.rng, self.uscc, self.district
        start = max(registered, date(2022, 1, 1))
        holder = self.valid_ever("srdi-municipal") or self.valid_ever("little-giant")

        def report(on: date, command: Any) -> None:
            if on <= TODAY:
                self.add(on, command)

        if district == "liangjiang" and rng.random() < 0.4:
            admitted = start + _days(rng, 0, 1400)
            if self.member("cultivation-pool", "admitted", admitted) and rng.random() < 0.2:
                self.member("cultivation-pool", "left", admitted + _days(rng, 200, 600))
        if district in ("liangjiang", "jiangjin") and holder and rng.random() < 0.2:
            self.member("listing-reserve", "admitted", start + _days(rng, 0, 1400))
        if district == "qianjiang" and rng.random() < 0.3:
            self.member("hnte-pool", "admitted", start + _days(rng, 0, 1400))
        if district in ("rongchang", "liangjiang", "jiangjin"):
            for track, chance in DESIGNATIONS.items():
                if rng.random() < chance:
                    self.member(track, "certified", start + _days(rng, 0, 1500))
        if district in ("rongchang", "jiangjin", "yubei") and rng.random() < 0.2:
            year = rng.randint(2023, 2025)
            on = date(year, 6, 1) + _days(rng, 0, 180)
            kind = rng.choice(["smart", "green", "digital"])
            investment = Decimal(rng.randrange(200_000, 5_000_000))
            report(on, c.ReportRetrofit(uscc=u, year=year, kind=kind, investment=investment, on=on))
        if district == "yubei" and holder:
            for year in (2025, 2026):
                if rng.random() < 0.15:
                    self.member("benchmark", "certified", date(year, 3, 1) + _days(rng, 0, 150))
        if district == "yubei" and rng.random() < 0.05:
            on = start + _days(rng, 0, 1000)
            report(on, c.RecordInnovationProject(uscc=u, project=f"揭榜挂帅{on.year}-{u[-4:]}", on=on))
        if district == "yubei" and holder and rng.random() < 0.1:
            on = start + _days(rng, 0, 1000)
            level = rng.choice(["national", "industry", "group"])
            report(on, c.RecordStandard(uscc=u, standard=f"T/CQ {u[-4:]}-{on.year}", level=level, on=on))
        if district == "rongchang":
            if rng.random() < 0.05:
                on = start + _days(rng, 0, 800)
                report(on, c.RecordIncubation(uscc=u, on=on))
            if rng.random() < 0.3:
                for n in range(rng.randint(1, 3)):
                    on = start + _days(rng, 0, 1500)
                    number = f"ZL{on.year}2{rng.randrange(10**7):07d}.{n}"
                    report(on, c.ReportPatent(uscc=u, number=number, on=on))
        if district != "qianjiang" and rng.random() < 0.3:
            on = start + _days(rng, 0, 300)
            person = rng.choice("张伟 王芳 李娜 刘洋 陈静 杨帆".split())  # noqa: SIM905
            report(on, c.AssignSpecialist(uscc=u, person=person, unit="区经济信息委", on=on))


def plan(seed: int, index: int) -> Plan:
    """The plan of enterprise ``index`` of the demo with ``seed``."""
    return _Planner(seed, index).build()
