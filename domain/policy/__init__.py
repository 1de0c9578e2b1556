"""District policies as data and the pure engine that says what an enterprise is owed.

- `model`: a policy document (rules, readings, caps, targets) loaded from TOML and validated;
- `facts`: what the engine knows about one enterprise (built by the aggregate from its events);
- `decisions`: triggers in, entitlement decisions out;
- `engine`: `evaluate` for one trigger, `evaluate_history` when a policy is activated.
Nothing here imports storage, the CLI or the clock.
"""

from domain.policy.decisions import (
    Assessment,
    CreateEntitlement,
    Decision,
    ExistingEntitlement,
    Explanation,
    MilestoneReached,
    PolicyActivated,
    Refusal,
    ReportFiled,
    ResolvePending,
    Trigger,
    entitlement_id,
)
from domain.policy.engine import assess, assess_history, evaluate, evaluate_history
from domain.policy.facts import (
    DemonstrationSelection,
    EnterpriseFacts,
    FinancialReport,
    LeaseReport,
    ListingMilestone,
    PatentGrant,
    RdSubsidyGrant,
    TalentReport,
    TitlePeriod,
)
from domain.policy.model import Policy, Rule, builtin_keys, load_builtin, load_policy

__all__ = [
    "Assessment",
    "CreateEntitlement",
    "Decision",
    "DemonstrationSelection",
    "EnterpriseFacts",
    "ExistingEntitlement",
    "Explanation",
    "FinancialReport",
    "LeaseReport",
    "ListingMilestone",
    "MilestoneReached",
    "PatentGrant",
    "Policy",
    "PolicyActivated",
    "RdSubsidyGrant",
    "Refusal",
    "ReportFiled",
    "ResolvePending",
    "Rule",
    "TalentReport",
    "TitlePeriod",
    "Trigger",
    "assess",
    "assess_history",
    "builtin_keys",
    "entitlement_id",
    "evaluate",
    "evaluate_history",
    "load_builtin",
    "load_policy",
]
