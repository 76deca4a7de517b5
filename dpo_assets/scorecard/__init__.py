"""The scorecard: base vs base + adapter on HumanEval/MBPP, the GO/NO-GO decision and the iteration ledger."""
