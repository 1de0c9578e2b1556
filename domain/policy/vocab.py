"""The closed vocabularies the policy data and the engine share (tracks, stages, statuses…).

They are `Literal` types so that pydantic refuses a typo in a policy file (`srdi-municipel`) with
the list of valid values, and mypy refuses one in code. The slugs are the ones of the CLI contract
and of `domain/data/tracks.toml`; they are repeated here, not imported, so that the policy model
stays loadable on its own (a policy file is validated before anything else is running).
"""

from __future__ import annotations

from typing import Literal, get_args

Track = Literal["tech-sme", "innovative-sme", "hnte", "srdi-municipal", "little-giant", "champion", "listing"]
"""A qualification track, or `listing` (the capital-market ladder)."""

TitleStart = Literal["certified", "review-passed"]
"""How a title period began: a (re-)certification, or a passed review (复核) extending it."""

Stage = Literal[
    "otc-listed",
    "neeq-filed",
    "neeq-listed",
    "neeq-select",
    "ipo-tutoring",
    "ipo-accepted",
    "ipo-listed",
    "ipo-withdrawn",
]
"""A listing milestone, in the catalogue's order (`ipo-withdrawn` is a regression)."""

Action = Literal[
    "certified",
    "review-passed",
    "otc-listed",
    "neeq-filed",
    "neeq-listed",
    "neeq-select",
    "ipo-tutoring",
    "ipo-accepted",
    "ipo-listed",
]
"""A milestone action a money rule can be triggered by."""

Size = Literal["micro", "small", "medium"]

ReportKind = Literal[
    "financials",
    "lease",
    "talent",
    "rd-subsidy",
    "patent-granted",
    "demonstration-selected",
    "retrofit",
    "designation",
    "incubation",
    "innovation-project",
    "standard",
]
"""What a report trigger says was reported (the CLI's `report` kinds, plus record kinds:
`designation` is the certification of a 数字化车间 / 智能工厂 / 绿色工厂 / benchmark designation)."""

Owner = Literal["state", "private"]
"""Who owns rented space: a state-owned platform (国有厂房) or private idle space (社会闲置)."""

RuleKind = Literal["award", "subsidy", "rent-subsidy", "tax-relief", "matching"]

Status = Literal[
    "accrued",
    "awaiting-approval",
    "pending-data",
    "approved",
    "partly-paid",
    "paid",
    "recovery-due",
    "reversed",
]
"""Entitlement statuses of the ledger contract (docs/cli.md). A status outside it reads as reversed
where the engine counts what exists (`facts_builder.existing_of`): a partly paid entitlement still
counts towards caps and once-only limits."""

InitialStatus = Literal["accrued", "awaiting-approval", "pending-data"]
"""The statuses the engine creates an entitlement with."""

STAGES: tuple[Stage, ...] = get_args(Stage)
TRACKS: tuple[Track, ...] = get_args(Track)
