"""Task unit: agentic/tool_loop."""

from __future__ import annotations

from pathlib import Path

from dpo_assets.tasks.agentic.tool_loop import material
from dpo_assets.tasks.base import AppendEachResult, SemanticRules, Signature, Task

INSTRUCTIONS = """\
Implement `run_agent(llm, tools: dict, task: str, max_steps: int = 8) -> dict`, a minimal
tool-calling loop. `messages` starts as `[{"role": "user", "content": task}]`. Each step calls
`reply = llm(messages)` (a `str`), appends `{"role": "assistant", "content": reply}`, then parses
`reply` as JSON:
- `{"final": answer}` -> return `{"answer": answer, "steps": k, "messages": messages}` where `k` is
  the number of `llm` calls made.
- `{"tool": name, "args": {...}}` with `name` in `tools` -> append
  `{"role": "tool", "content": str(tools[name](**args))}`.
- an unknown tool, arguments the tool rejects, an exception raised by the tool, a reply that is
  not JSON or not one of the two shapes -> append `{"role": "tool", "content": "error: ..."}`
  (the content starts with `error:`) and go on. Tool failures never escape `run_agent`.
After `max_steps` calls without a final answer -> `{"answer": None, "steps": max_steps,
"messages": messages}`. `llm` is never called more than `max_steps` times.
`max_steps < 1` -> `ValueError`. Exceptions raised by `llm` itself propagate.
"""

TASK = Task(
    task_id="agentic/tool_loop",
    title="A minimal tool-calling agent loop",
    instructions=INSTRUCTIONS,
    unit_dir=Path(__file__).resolve().parent,
    invariants=material.INVARIANTS,
    differential=material.DIFFERENTIAL,
    properties=material.PROPERTIES,
    fuzz=material.FUZZ,
    edge=material.EDGE,
    semantic=SemanticRules(functions=(Signature("run_agent", ("llm", "tools", "task", "max_steps")),)),
    dataflow=(
        # every llm reply reaches ``messages`` (as the assistant message) ...
        AppendEachResult("run_agent", "llm", "messages"),
        # ... and so does every tool result (``tools[name](**args)``, as the tool message).
        AppendEachResult("run_agent", "tools", "messages"),
    ),
)
