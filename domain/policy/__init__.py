"""District policies as data and the pure engine that says what an enterprise is owed.

- `model`: a policy document (vocabularies, rule parts, rules, readings, caps) loaded from TOML;
- `targets`: the targets a document sets and its annex tables;
- `facts`: what the engine knows about one enterprise, built from the aggregate;
- `decisions`: triggers in, entitlement decisions out;
- `occasions`, `conditions`, `amounts`: what a rule's trigger, conditions and formula mean;
- `engine`: `evaluate` for one trigger, `evaluate_history` on activation, `derive` afresh;
- `reactor`: the entitlement events that keep the books equal to the facts, and the active set;
- `payouts`: approving and paying an entitlement (the ledger's write side).
Nothing here imports storage, the CLI or the clock.
"""
