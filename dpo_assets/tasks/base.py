"""What a task unit declares: its contract material for every gate layer.

A task unit is a package ``dpo_assets/tasks/<domain>/<name>/`` holding

* ``reference.py``   - the reference implementation (a standalone candidate module),
* ``suite.py``       - the pytest suite; it imports the candidate as ``solution``,
* ``harness.py``     - *drivers*: trusted functions ``driver(solution, **kwargs)`` that
  exercise a loaded candidate inside the sandbox and return raw results,
* ``__init__.py``    - ``TASK = Task(...)``: prompt, and the per-layer material below.

Drivers only *collect*; every judgement (the ``check``/``compare`` functions here) runs in
the trusted parent on decoded plain data. A layer is therefore one generic engine plus the
data a task declares here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dpo_assets.sandbox.outcome import Call, Observation

# A check returns None when the observation honours the contract, else a one-line reason.
Check = Callable[[Observation], "str | None"]
# A comparison of a candidate observation against the reference observation.
Compare = Callable[[Observation, Observation], "str | None"]
# A property judged from the generated inputs and the candidate's observation.
PropertyCheck = Callable[[Mapping[str, Any], Observation], "str | None"]


@dataclass(frozen=True)
class Case:
    """A call whose observation must satisfy ``check`` (layers 1, 4 and 7)."""

    call: Call
    check: Check


@dataclass(frozen=True)
class DifferentialCase:
    """A call run on the candidate and on the reference; ``compare`` judges them (layer 2)."""

    call: Call
    compare: Compare


@dataclass(frozen=True)
class PropertySpec:
    """A Hypothesis property (layer 3).

    ``strategy`` draws the kwargs for ``driver``; each drawn example is executed in the
    sandbox and judged by ``check`` in the parent.
    """

    name: str
    driver: str
    strategy: Any  # hypothesis.strategies.SearchStrategy[dict[str, Any]]
    check: PropertyCheck
    max_examples: int = 25


@dataclass(frozen=True)
class Signature:
    """A function the contract requires: its parameter names and whether it is async."""

    name: str
    params: tuple[str, ...]
    is_async: bool = False


@dataclass(frozen=True)
class SemanticRules:
    """Task data for the AST layer (5); the generic checks apply to every task."""

    functions: tuple[Signature, ...]
    # function name -> index in its returned tuple of a flag that must be computed,
    # never a constant on every return path (e.g. Metropolis' ``accepted``).
    computed_flags: Mapping[str, int] = field(default_factory=dict)
    # calls whose result carries state and must not be discarded (``_ = step(...)``).
    carried_results: frozenset[str] = frozenset()
    # names that must be awaited, never called blocking (e.g. ``asyncio.sleep``).
    must_await: frozenset[str] = frozenset()
    # calls forbidden in this task beyond the common list (e.g. ``time.sleep``).
    forbidden_calls: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AppendEveryIteration:
    """Dataflow rule: in ``function``, the loop that calls ``step`` must append the
    current state to the returned list on every iteration, not under a condition."""

    function: str
    step: str


@dataclass(frozen=True)
class CarryState:
    """Dataflow rule: in ``function``, the state ``step`` returns (element
    ``result_index`` of its tuple) is the state passed as argument ``arg_index`` of the
    next ``step`` call."""

    function: str
    step: str
    arg_index: int = 0
    result_index: int = 0


@dataclass(frozen=True)
class AppendEachResult:
    """Dataflow rule: in ``function``, each result of ``call`` must reach ``target``
    (e.g. every tool reply is appended to ``messages``)."""

    function: str
    call: str
    target: str


DataflowRule = AppendEveryIteration | CarryState | AppendEachResult


@dataclass(frozen=True)
class Task:
    """One task of the catalog, with all the material the gate needs."""

    task_id: str
    title: str
    instructions: str  # what the model is asked to write (contract text)
    unit_dir: Path  # the task unit's folder
    invariants: tuple[Case, ...]
    differential: tuple[DifferentialCase, ...]
    properties: tuple[PropertySpec, ...]
    fuzz: tuple[Case, ...]
    edge: tuple[Case, ...]
    semantic: SemanticRules
    dataflow: tuple[DataflowRule, ...] = ()
    # Wall-clock budgets of the edge batch and of any one edge call. Correct bundled candidates
    # need at most ~0.4 s per batch and ~130 ms per call: a timeout costs at most these.
    edge_seconds: float = 8.0
    edge_call_seconds: float = 2.0
    is_repair: bool = False

    @property
    def domain(self) -> str:
        return self.task_id.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.task_id.split("/", 1)[1]

    @property
    def harness(self) -> str:
        """Dotted name of the driver module."""
        return f"dpo_assets.tasks.{self.domain}.{self.name}.harness"

    @property
    def reference_source(self) -> str:
        return (self.unit_dir / "reference.py").read_text(encoding="utf-8")

    @property
    def suite_source(self) -> str:
        return (self.unit_dir / "suite.py").read_text(encoding="utf-8")

    @property
    def broken_source(self) -> str | None:
        """Repair tasks: the broken module the default prompt shows."""
        path = self.unit_dir / "broken.py"
        return path.read_text(encoding="utf-8") if path.exists() else None

    @property
    def broken_traceback(self) -> str | None:
        """Repair tasks: the pytest traceback the suite produced on ``broken.py``."""
        path = self.unit_dir / "broken_traceback.txt"
        return path.read_text(encoding="utf-8") if path.exists() else None

    def prompt(self, broken_code: str | None = None, traceback: str | None = None) -> str:
        """The text a model is shown for this task; with a broken module and its pytest report,
        any task becomes a repair (as when a generated implementation failed its suite)."""
        if not self.is_repair and (broken_code is None or traceback is None):
            return (
                f"{self.instructions.strip()}\n\n"
                "Write the complete Python module. Use only the standard library and numpy."
            )
        broken = broken_code if broken_code is not None else self.broken_source
        tb = traceback if traceback is not None else self.broken_traceback
        return (
            f"{self.instructions.strip()}\n\n"
            "The module below fails its tests.\n\n"
            f"```python\n{(broken or '').rstrip()}\n```\n\n"
            f"pytest reported:\n\n```\n{(tb or '').rstrip()}\n```\n\n"
            "Return the complete repaired module. Fix the cause; do not weaken or remove checks."
        )
