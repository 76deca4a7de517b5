"""Pairs straight from the labelled bundled corpus (correct vs broken), without the gate.

For smoke runs, tests and benchmarks of the training code; the product's pairs come from
``dpo_pairs``.
"""

from __future__ import annotations

import pandas as pd

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.pool.pairs import fenced
from dpo_assets.tasks import load_catalog

# Tasks with short prompts (not the repair tasks, whose prompts carry a module and a traceback).
SHORT_TASKS = ("python_async/retry", "agentic/tool_loop", "numerical_linear_algebra/cholesky")


def bundled_pairs(per_task: int, tasks: tuple[str, ...] = SHORT_TASKS) -> pd.DataFrame:
    """``per_task`` (correct, broken) pairs of each task in TRL's conversational format."""
    catalog, rows = load_catalog(), []
    for task_id in tasks:
        samples, labels = load_samples(task_id), load_labels(task_id)
        correct = [s for s, lab in labels.items() if lab["label"] == "correct"]
        broken = [s for s, lab in labels.items() if lab["label"] == "broken"]
        for good, bad in list(zip(correct, broken))[:per_task]:
            rows.append(
                {
                    "prompt": [{"role": "user", "content": catalog[task_id].prompt()}],
                    "chosen": [{"role": "assistant", "content": fenced(samples[good]["code"])}],
                    "rejected": [{"role": "assistant", "content": fenced(samples[bad]["code"])}],
                    "task_id": task_id,
                    "domain": catalog[task_id].domain,
                    "chosen_id": good,
                    "rejected_id": bad,
                    "rejected_layer": 1,
                }
            )
    return pd.DataFrame(rows)
