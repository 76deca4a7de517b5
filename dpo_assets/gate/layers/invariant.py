"""Gate layer 1 (invariant): the module imports in the sandbox and the task's contract invariants hold.

The material is the task's; the generic engine runs it (:func:`dpo_assets.gate.engine.run_layer`).
"""

from __future__ import annotations

from dpo_assets.gate.engine import layer_check

NUMBER = 1
NAME = "invariant"

check = layer_check(NUMBER)
