"""Gate layer 2 (differential): results agree with the task's reference implementation.

The material is the task's; the generic engine runs it (:func:`dpo_assets.gate.engine.run_layer`).
"""

from __future__ import annotations

from dpo_assets.gate.engine import layer_check

NUMBER = 2
NAME = "differential"

check = layer_check(NUMBER)
