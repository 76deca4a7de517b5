"""Gate layer 7 (edge): edge-case execution in the sandbox (extreme values, NaN/Inf, stress).

The material is the task's; the generic engine runs it (:func:`dpo_assets.gate.engine.run_layer`).
"""

from __future__ import annotations

from dpo_assets.gate.engine import layer_check

NUMBER = 7
NAME = "edge"

check = layer_check(NUMBER)
