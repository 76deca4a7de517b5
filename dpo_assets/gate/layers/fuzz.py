"""Gate layer 4 (fuzz): a fixed catalog of adversarial inputs gives the contracted results or errors.

The material is the task's; the generic engine runs it (:func:`dpo_assets.gate.engine.run_layer`).
"""

from __future__ import annotations

from dpo_assets.gate.engine import layer_check

NUMBER = 4
NAME = "fuzz"

check = layer_check(NUMBER)
