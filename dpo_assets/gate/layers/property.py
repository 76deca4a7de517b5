"""Gate layer 3 (property): Hypothesis property tests of the contract pass.

The material is the task's; the generic engine runs it (:func:`dpo_assets.gate.engine.run_layer`).
"""

from __future__ import annotations

from dpo_assets.gate.engine import layer_check

NUMBER = 3
NAME = "property"

check = layer_check(NUMBER)
