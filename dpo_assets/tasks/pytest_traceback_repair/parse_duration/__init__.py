"""Task unit: pytest_traceback_repair/parse_duration."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from dpo_assets.sandbox.outcome import Call, Observation
from dpo_assets.tasks import checks
from dpo_assets.tasks.base import Case, DifferentialCase, PropertySpec, SemanticRules, Signature, Task

INSTRUCTIONS = """\
Implement `parse_duration(text: str) -> int`. It parses one or more `<digits><unit>` groups
(ASCII digits `0-9`, leading zeros allowed) with units `d`, `h`, `m`, `s` (86400, 3600, 60 and 1
seconds), in strictly descending unit order, each unit at most once, with no spaces and no sign,
e.g. `"90s"`, `"1h30m"`, `"2d5s"`, and returns the total number of seconds as an `int`.
Anything else (the empty string, a bare number, an unknown or upper-case unit, a repeated or
misordered unit, whitespace, a sign) raises `ValueError`; a non-`str` argument raises `TypeError`
or `ValueError`.
"""

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_ORDER = "dhms"
_ASCII_DIGITS = "0123456789"


def oracle(text: str) -> int | None:
    """The contract, independently of the reference: total seconds, or None when invalid."""
    if type(text) is not str or not text:
        return None
    total = 0
    next_unit = 0  # index in _ORDER of the smallest unit still allowed
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] in _ASCII_DIGITS:
            j += 1
        if j == i or j == len(text):
            return None  # a unit without digits, or digits without a unit
        rank = _ORDER.find(text[j])
        if rank < next_unit:  # unknown unit (-1), repeated or misordered
            return None
        next_unit = rank + 1
        total += int(text[i:j]) * _UNIT_SECONDS[text[j]]
        i = j + 1
    return total


def seconds(expected: int) -> checks.Check:
    """The call returns exactly the plain ``int`` ``expected``."""

    def check(obs: Observation) -> str | None:
        if obs.raised:
            return f"expected {expected!r}, {obs.describe()}"
        if type(obs.value) is not int:
            return f"expected an int, got {checks.type_name(obs.value)} {obs.value!r}"
        if obs.value != expected:
            return f"expected {expected!r}, got {obs.value!r}"
        return None

    return check


def per_contract(text: str) -> checks.Check:
    """What the contract says about ``text``: its seconds, or ``ValueError``."""
    expected = oracle(text)
    return checks.raises("builtins.ValueError") if expected is None else seconds(expected)


_NON_STR = checks.raises_any_of("builtins.TypeError", "builtins.ValueError")


def _parse(text: str, kind: str = "str") -> Call:
    return Call("parse", {"text": text, "kind": kind})


INVARIANTS = (
    Case(_parse("90s"), seconds(90)),
    Case(_parse("1h30m"), seconds(5400)),
    Case(_parse("2d5s"), seconds(172805)),
    Case(_parse("1d2h3m4s"), seconds(93784)),
)

_DIFFERENTIAL_TEXTS = [
    # valid
    "45s", "7m", "3h", "4d", "2h15m", "1d12h", "5m30s", "1d1s", "2d3h4m5s", "0m", "000s", "08h09m",
    "86400s", "1440m", "36893488147419103232s", "12345678901234567890d59s",
    # invalid
    "", "42", "m", "5w", "5ms", "5M", "2H30m", "1d 2h", "2h ", "1h\n", "+1h", "-1h", "1h-1m",
    "1m1m", "30s1m", "1h2d", "2.5h", "1_5m", "\u0665s", "\uff11h", "1h30", "d1", "1hs",
]

DIFFERENTIAL = tuple(DifferentialCase(_parse(text), checks.same_as_reference) for text in _DIFFERENTIAL_TEXTS)


@st.composite
def _valid_text(draw: st.DrawFn) -> str:
    units = draw(st.lists(st.sampled_from(_ORDER), min_size=1, max_size=4, unique=True))
    parts = []
    for unit in sorted(units, key=_ORDER.index):
        value = draw(st.one_of(st.integers(0, 100), st.integers(0, 10**7), st.integers(0, 10**30)))
        zeros = draw(st.sampled_from(["", "", "", "0", "00"]))
        parts.append(f"{zeros}{value}{unit}")
    return "".join(parts)


_NASTY = [
    " ", "\t", "\n", "+", "-", ".", "_", ",", "x", "D", "H", "M", "S", "\u0663", "\uff15", "\u00b2", "0",
]


@st.composite
def _mutated_text(draw: st.DrawFn) -> str:
    text = draw(_valid_text())
    how = draw(st.sampled_from(["insert", "upper", "repeat", "swap", "delete", "prefix", "suffix"]))
    if how == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(_NASTY)) + text[at:]
    if how == "upper":
        return text.upper()
    if how == "repeat":
        return text + text
    if how == "swap":
        unit_ends = [i + 1 for i, ch in enumerate(text) if ch in _ORDER]
        if len(unit_ends) < 2:
            return text + "1" + text[-1]
        first = text[: unit_ends[0]]
        return text[unit_ends[0] :] + first
    if how == "delete":
        at = draw(st.integers(0, len(text) - 1))
        return text[:at] + text[at + 1 :]
    if how == "prefix":
        return draw(st.sampled_from(["+", "-", " ", "0x", "\u0663"])) + text
    return text + draw(st.sampled_from(["\n", " ", "s", "x", "1", "0s"]))


def _contract_property(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    return per_contract(kwargs["text"])(obs)


PROPERTIES = (
    PropertySpec(
        "valid durations give their exact seconds",
        "parse",
        st.fixed_dictionaries({"text": _valid_text()}),
        _contract_property,
    ),
    PropertySpec(
        "mutated durations follow the contract",
        "parse",
        st.fixed_dictionaries({"text": _mutated_text()}),
        _contract_property,
    ),
    PropertySpec(
        "arbitrary short strings follow the contract",
        "parse",
        st.fixed_dictionaries(
            {"text": st.text(alphabet=list(_ASCII_DIGITS + _ORDER + "DHMS +-\n.\u0663"), max_size=8)}
        ),
        _contract_property,
    ),
)

_FUZZ_INVALID = [
    "", "0", "90", "007", "s", "d", "hms", "h30m", "1h30", "1H", "1D", "1M", "1S", "1h30M", "1w", "1x",
    "5sec", "1hour", "1ms", "1hh", "1h 30m", " 1h", "1h ", "1h\n", "\n1h", "\t5s", "5s\t", "1h\r", "1\u00a0h",
    "-5s", "+5s", "1h+30m", "1h-30m", "--5s", "1h1h", "1s1s", "1d2d", "1m1h", "1s1m", "1s1d", "1h1d", "1m1d",
    "1d2h3m4s5s", "1d2h3m4s1d", "1.5h", "1.0s", ".5s", "1e3s", "1_000s", "1,5m", "0x1fs", "0b1s", "1/2h",
    "\u0663s", "1\u0663s", "\uff15s", "\u0967h", "\u00b2s", "\u2460s", "\U0001d7d9s", "1h\x00", "\x001h",
    "1h30m\n", "inf s", "nans", "1j s", "1\u200bh",
]

_FUZZ_VALID = [
    ("0s", 0), ("0d0h0m0s", 0), ("00h", 0), ("0000000000000000000001s", 1), ("59s", 59), ("60s", 60),
    ("1m0s", 60), ("24h", 86400), ("1d0h", 86400), ("100d", 8640000),
]

FUZZ = (
    tuple(Case(_parse(text), checks.raises("builtins.ValueError")) for text in _FUZZ_INVALID)
    + tuple(Case(_parse(text), seconds(value)) for text, value in _FUZZ_VALID)
    + (
        Case(_parse("", "none"), _NON_STR),
        Case(_parse("90", "int"), _NON_STR),
        Case(_parse("5.0", "float"), _NON_STR),
        Case(_parse("5s", "bytes"), _NON_STR),
        Case(_parse("1h30m", "bytearray"), _NON_STR),
        Case(_parse("5s", "list"), _NON_STR),
        Case(_parse("1h30m", "stringly"), _NON_STR),
        Case(_parse("90s"), seconds(90)),  # still sane after the hostile calls above
    )
)

_HUGE = "9" * 1000
EDGE = (
    Case(_parse(f"{_HUGE}d"), seconds(int(_HUGE) * 86400)),
    Case(_parse(f"{_HUGE}d{_HUGE}h{_HUGE}m{_HUGE}s"), seconds(int(_HUGE) * 90061)),
    Case(_parse("0" * 4000 + "7s"), seconds(7)),
    Case(_parse("18446744073709551616d18446744073709551616s"), seconds(18446744073709551616 * 86401)),
    # Long invalid inputs: a linear parser answers at once; nested regex quantifiers never do.
    Case(_parse("1" * 3_000 + "x"), checks.raises("builtins.ValueError")),
    Case(_parse("1" * 3_000), checks.raises("builtins.ValueError")),
    Case(_parse("1s" * 50_000), checks.raises("builtins.ValueError")),
    Case(_parse("1d" + "0" * 3_000 + "1"), checks.raises("builtins.ValueError")),
    Case(_parse("1h" + " " * 100_000), checks.raises("builtins.ValueError")),
    Case(_parse("\U0010ffffs"), checks.raises("builtins.ValueError")),
)

TASK = Task(
    task_id="pytest_traceback_repair/parse_duration",
    title="Repair a duration parser",
    instructions=INSTRUCTIONS,
    unit_dir=Path(__file__).resolve().parent,
    invariants=INVARIANTS,
    differential=DIFFERENTIAL,
    properties=PROPERTIES,
    fuzz=FUZZ,
    edge=EDGE,
    semantic=SemanticRules(functions=(Signature("parse_duration", ("text",)),)),
    is_repair=True,
)
