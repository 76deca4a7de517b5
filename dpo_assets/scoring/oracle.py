"""Expected outputs of the canonical solutions, and the trusted comparison of a candidate's.

Expected outputs come from running each problem's canonical solution (prompt + canonical
solution, trusted) over its inputs in the sandbox, with generous limits, exactly as a candidate
runs; they are cached as wire-encoded JSON under ``<data>/cache`` keyed by a digest of the
problems' content, with the reference time of every input (the per-problem time limits).

Comparison happens in the parent, on values the wire decoded: plain Python types only (an object
with a lying ``__eq__`` arrives as :class:`~dpo_assets.sandbox.wire.Foreign` and equals nothing).
On those trusted values the rules are evalplus' (0.3.1, ``evalplus/eval/__init__.py``):
``out == exp`` (so ``1 == 1.0`` and ``True == 1`` as there; ``[1] != (1,)``), else, when the
problem has an ``atol`` or the expected output is a float or a non-empty list/tuple of floats
(then ``atol = 1e-6``), same type, same length and every number within ``atol + 1e-7 * |exp|``.
NumPy scalars count as their plain value (evalplus compares them with ``==`` too).

Special oracles (:data:`SPECIAL_ORACLES`) follow evalplus where a problem has several right
answers; :data:`KNOWN_BAD_REFERENCES` lists problems whose canonical solution cannot pass our
checker, with the reason (none today: the test suite proves every canonical solution passes).
"""

from __future__ import annotations

import hashlib
import json
import math
import reprlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dpo_assets.sandbox.wire import Foreign, decode, encode
from dpo_assets.scoring import harness

# Bump when the harness, its wrapping or the way expected outputs are computed changes.
ORACLE_VERSION = 1
FLOAT_ATOL = 1e-6  # evalplus: ``if atol == 0 and is_floats(exp): atol = 1e-6``
FIND_ZERO_RTOL = 1e-9  # HumanEval/32: |poly(x)| relative to the size of its terms
RTOL = 1e-7  # evalplus: ``np.allclose(out, exp, rtol=1e-07, atol=atol)``

# evalplus/eval/_special_oracle.py, applied by entry point to MBPP+ problems.
MBPP_OUTPUT_NOT_NONE = frozenset({"check_str", "text_match_three", "text_starta_endb"})
MBPP_OUTPUT_SET_EQ = frozenset({"similar_elements", "find_char_long", "common_in_nested_lists",
                                "extract_singly", "larg_nnum", "intersection_array", "find_dissimilar",
                                "Diff"})  # fmt: skip

SPECIAL_ORACLES: dict[str, str] = {
    "HumanEval/32": "find_zero: any root passes, |poly(xs, x)| <= max(atol, 1e-9 * sum |c_i x^i|), not "
    "only the reference's (evalplus 0.3.1 checks |poly| <= atol, and then fails every solution by a bug)",
    "Mbpp/558": "digit_distance_nums: also accepts the zero-padded digit distance (evalplus)",
    "Mbpp/581": "surface_Area: also accepts the slant-height reading of 'height', within atol (evalplus)",
    "Mbpp/737 Mbpp/787 Mbpp/794": "regex tasks: the reference returns a match object or None; "
    "compared as 'matched or not' (a bool, or anything vs None), as evalplus",
    "Mbpp/2 /7 /111 /140 /232 /579 /769": "order-free results: compared as sets (evalplus)",
}

# task_id -> why its canonical solution cannot pass. Such problems are still scored, and a
# candidate that matches the reference's behaviour passes; the list is what the tests exempt.
KNOWN_BAD_REFERENCES: dict[str, str] = {}


def poly(xs: Sequence[float], x: float) -> float:
    """HumanEval/32's polynomial, as evalplus' ``_poly``."""
    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))


def _surface_area(base_edge: float, height: float) -> int:
    """evalplus' alternative oracle for Mbpp/581 ("height" as the pyramid's height)."""
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant) / 2)


def _digit_distance(num1: int, num2: int) -> int:
    """evalplus' alternative oracle for Mbpp/558 (numbers zero-padded to the same length)."""
    a, b = str(num1), str(num2)
    width = max(len(a), len(b))
    return sum(abs(int(x) - int(y)) for x, y in zip(a.zfill(width), b.zfill(width)))


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Digest:
    """A result too large for the wire, compared by the SHA-256 of its exact-type encoding."""

    sha256: str


def unwrap(decoded: Any) -> Any:
    """The value :func:`harness.wrap` shipped, rebuilt from its decoded ``(kind, value)``."""
    if type(decoded) is not tuple or len(decoded) != 2 or type(decoded[0]) is not str:
        raise ValueError(f"malformed harness result: {decoded!r:.80}")
    kind, value = decoded
    if kind == "v":
        return _plain(value)
    if kind in ("set", "frozenset"):
        items = [_plain(x) for x in value]
        return set(items) if kind == "set" else frozenset(items)
    if kind == "int":
        return int(value, 16)
    if kind == "digest":
        return Digest(str(value))
    raise ValueError(f"unknown harness result kind {kind!r}")


def _plain(value: Any) -> Any:
    """NumPy scalars as their plain value; everything else as decoded."""
    t = type(value)
    if t is Foreign:
        return value.value if value.type_name.startswith("numpy.") and value.value is not None else value
    if t is list:
        return [_plain(x) for x in value]
    if t is tuple:
        return tuple(_plain(x) for x in value)
    if t is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


def decode_output(encoded: Any) -> Any:
    """A cached (wire-encoded) expected output as a comparable value."""
    return unwrap(decode(encoded))


# --------------------------------------------------------------------------- comparison


def is_floats(value: Any) -> bool:
    """evalplus' ``is_floats``: a float, or a non-empty list/tuple of floats."""
    if type(value) is float:
        return True
    if type(value) in (list, tuple) and value:
        return all(type(x) is float for x in value)
    return False


def _equal(out: Any, exp: Any) -> bool:
    try:
        result = out == exp
    except Exception:  # e.g. an ndarray inside a list: ambiguous truth value
        return False
    return result is True


def _number(x: Any) -> bool:
    return type(x) in (int, float, bool, complex)


def _close(out: Any, exp: Any, atol: float) -> bool:
    """Element-wise ``|out - exp| <= atol + RTOL * |exp|`` (numbers only, nested alike)."""
    if _number(out) and _number(exp):
        try:
            return abs(out - exp) <= atol + RTOL * abs(exp)
        except OverflowError:
            return False
    if type(out) in (list, tuple) and type(exp) in (list, tuple):
        return len(out) == len(exp) and all(_close(a, b, atol) for a, b in zip(out, exp))
    return False


def outputs_match(out: Any, exp: Any, atol: float) -> bool:
    """evalplus' general rule (see the module docstring) on trusted values."""
    if _equal(out, exp):
        return True
    if atol == 0 and is_floats(exp):
        atol = FLOAT_ATOL
    if atol == 0 or type(out) is not type(exp):
        return False
    return _close(out, exp, atol)


def _as_set(value: Any) -> set[Any] | None:
    if type(value) in (list, tuple, set, frozenset, str, dict):
        try:
            return set(value)
        except TypeError:
            return None
    return None


Check = Callable[[Any, Any, Sequence[Any], float], bool]


def _find_zero(out: Any, exp: Any, args: Sequence[Any], atol: float) -> bool:
    """A root: ``|poly(xs, x)| <= max(atol, 1e-9 * sum |c_i x^i|)`` (the relative term is the
    evaluation's rounding noise with large coefficients; evalplus' plain ``atol`` rejects valid
    roots there), or the reference's root within ``atol``."""
    if type(out) not in (int, float):
        return False
    if outputs_match(out, exp, atol):
        return True
    try:
        xs = args[0]
        scale = sum(abs(c * math.pow(out, i)) for i, c in enumerate(xs))
        return abs(poly(xs, out)) <= max(atol, FIND_ZERO_RTOL * scale)
    except (OverflowError, ValueError, TypeError):
        return False


def _not_none(out: Any, exp: Any, args: Sequence[Any], atol: float) -> bool:
    return out == exp if type(out) is bool else exp == (out is not None)


def _set_eq(out: Any, exp: Any, args: Sequence[Any], atol: float) -> bool:
    got = _as_set(out)
    return got is not None and got == _as_set(exp)


def _alternative(reference: Callable[..., Any], tolerance: bool) -> Check:
    def check(out: Any, exp: Any, args: Sequence[Any], atol: float) -> bool:
        if outputs_match(out, exp, atol):
            return True
        if not _number(out):
            return False
        try:
            alt = reference(*args)
            return abs(out - alt) <= atol if tolerance else _equal(out, alt)
        except Exception:
            return False

    return check


def special_check(benchmark: str, task_id: str, entry_point: str) -> Check | None:
    """The special oracle of a problem, or None for the general rule."""
    if benchmark == "humaneval" and entry_point == "find_zero":
        return _find_zero
    if benchmark != "mbpp":
        return None
    if entry_point in MBPP_OUTPUT_NOT_NONE:
        return _not_none
    if entry_point in MBPP_OUTPUT_SET_EQ:
        return _set_eq
    if entry_point == "surface_Area":
        return _alternative(_surface_area, tolerance=True)
    if entry_point == "digit_distance_nums":
        return _alternative(_digit_distance, tolerance=False)
    return None


def _foreign_in(value: Any) -> Foreign | None:
    if type(value) is Foreign:
        return value
    items = value.values() if type(value) is dict else value if type(value) in (list, tuple) else ()
    return next((f for f in map(_foreign_in, items) if f is not None), None)


def reference_entry(benchmark: str, entry_point: str, decoded: Any) -> Any:
    """The cached form of a canonical solution's output (as decoded from the sandbox): the wire
    encoding of its ``(kind, value)``, NumPy scalars made plain; for evalplus' "not None" tasks
    just whether it matched. Raises ValueError for an output nothing can be compared with."""
    value = unwrap(decoded)
    if benchmark == "mbpp" and entry_point in MBPP_OUTPUT_NOT_NONE:
        return encode(("v", value is not None))
    kind, payload = decoded
    payload = _plain(payload)
    foreign = _foreign_in(payload)
    if foreign is not None:
        raise ValueError(f"the reference returned a {foreign.type_name}, which cannot be compared")
    return encode((kind, payload))


def call_args(benchmark: str, task_number: int, raw: list[Any]) -> Sequence[Any]:
    """The arguments as the candidate saw them (for oracles that recompute from the input)."""
    return harness.mbpp_input(task_number, raw) if benchmark == "mbpp" else raw


class _Short(reprlib.Repr):
    """A short repr: long containers and strings cut, huge ints by size (their decimal repr is
    slow, and beyond 4300 digits refused)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxdict, self.maxstring, self.maxother = 3, 6, 60, 60
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 8

    def repr_int(self, x: int, level: int) -> str:
        return repr(x) if x.bit_length() < 200 else f"<int of about {int(x.bit_length() * 0.30103)} digits>"


_SHORT = _Short()


def describe(value: Any, limit: int = 120) -> str:
    """A one-line, bounded repr of a trusted value (inputs and outputs in failure details)."""
    try:
        text = _SHORT.repr(value)
    except Exception as exc:  # pragma: no cover - defensive: a detail must never fail a run
        text = f"<{type(value).__name__}: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- the cache


@dataclass(frozen=True)
class Reference:
    """What a problem's canonical solution produced: encoded outputs and seconds per input."""

    outputs: list[Any]  # wire-encoded harness results, one per input (base inputs first)
    seconds: list[float]
    n_base: int
    error: str | None = None  # why the canonical solution did not produce every output


def problems_digest(rows: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 over everything that determines the expected outputs, plus :data:`ORACLE_VERSION`."""
    h = hashlib.sha256(f"oracle-v{ORACLE_VERSION}\n".encode())
    for row in rows:
        h.update(json.dumps(row, sort_keys=True, default=repr).encode())
        h.update(b"\n")
    return h.hexdigest()


def cache_file(cache_dir: Path, benchmark: str, digest: str, plus: bool) -> Path:
    """``scoring-<benchmark>[-plus]-<digest>.json``: references for base (and plus) inputs."""
    return cache_dir / f"scoring-{benchmark}{'-plus' if plus else ''}-{digest[:20]}.json"


def load_cache(path: Path) -> dict[str, Reference] | None:
    """The references in ``path``, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            task_id: Reference(r["outputs"], list(map(float, r["seconds"])), int(r["n_base"]), r.get("error"))
            for task_id, r in data["problems"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_cache(path: Path, references: Mapping[str, Reference]) -> None:
    from dpo_assets.storage import atomic_text

    problems = {
        task_id: {"outputs": r.outputs, "seconds": [round(s, 6) for s in r.seconds], "n_base": r.n_base,
                  "error": r.error}
        for task_id, r in references.items()
    }  # fmt: skip
    with atomic_text(path) as handle:
        json.dump({"oracle_version": ORACLE_VERSION, "problems": problems}, handle, separators=(",", ":"))
