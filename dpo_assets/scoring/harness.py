"""Sandbox-side driver for benchmark problems (imported by the fork server, so kept light).

:func:`call_input` builds one benchmark input from its JSON form (MBPP+ stores tuples, sets
and complex numbers as lists/strings: :func:`mbpp_input` rebuilds them the way evalplus'
``mbpp_deserialize_inputs`` does), calls the candidate's entry point and wraps the result as
``(kind, value)``. ``kind`` is chosen here, by exact type, never by the candidate: ``"set"`` /
``"frozenset"`` for a real set (its items travel as a list, since the wire carries no sets),
``"v"`` for anything else, which the wire then encodes by exact type. The same function
wraps the canonical solutions' outputs, so both sides are shaped alike.
"""

from __future__ import annotations

import array
import hashlib
import json
from collections import Counter, OrderedDict, defaultdict
from typing import Any

from dpo_assets.sandbox.wire import MAX_ITEMS, WireError, encode

# Bound at import, before any candidate runs (a candidate may rebind builtins in the sandbox).
_type, _list, _tuple, _set, _frozenset = type, list, tuple, set, frozenset
_getattr, _isinstance, _float, _complex, _str = getattr, isinstance, float, complex, str
_int, _abs, _len, _hex, _dict, _sha256, _dumps = int, abs, len, hex, dict, hashlib.sha256, json.dumps
_map, _encode, _json_decode = map, encode, json.JSONDecoder().decode
_SCALARS = frozenset({type(None), bool, int, float, str})
_CODES = {type(None): 0, bool: 1, int: 2, float: 3, str: 4}
_bytes, _array, _repr = bytes, array.array, repr
_WireError = WireError
_MISSING = object()
BIG_INT = 2**63  # larger ints travel as hex (the wire's decimal form hits Python's 4300-digit limit)
LONG_SEQUENCE = 1_000  # longer lists/tuples too big for the wire (it caps items) travel as a digest
LONG_STR = 10_000  # longer strings travel as a digest (the wire would ship them whole, twice)
_CHUNK = 1_000

# MBPP+ task numbers whose stored inputs need rebuilding, by rule (evalplus 0.3.1,
# evalplus/data/mbpp.py ``mbpp_deserialize_inputs``).
_ARGS_TO_TUPLES = frozenset({2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596,
                             616, 630, 726, 740, 744, 809})  # fmt: skip
_ARGS_ITEMS_TO_TUPLES = frozenset({63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780})
_FIRST_ITEMS_TO_TUPLES = frozenset({75, 413, 444, 753})
_SECOND_TO_TUPLE = frozenset({106, 750})
_FIRST_TO_TUPLE = frozenset({250, 405, 446, 617, 720, 763, 808})
_NESTED_TO_TUPLES = frozenset({259, 401, 445})
_ALL_TO_TUPLES = frozenset({580, 615, 791})


def _deep_tuple(value: Any) -> Any:
    if _isinstance(value, _list):
        return _tuple(_deep_tuple(item) for item in value)
    return value


def mbpp_input(task: int, args: list[Any]) -> Any:
    """The arguments of MBPP+ task ``task`` from their stored JSON form (one input)."""
    if task in _ARGS_TO_TUPLES:
        return [_tuple(x) for x in args]
    if task in _ARGS_ITEMS_TO_TUPLES or task in _NESTED_TO_TUPLES:
        rebuilt = [[_tuple(x) for x in arg] for arg in args]
        return [_tuple(x) for x in rebuilt] if task in _NESTED_TO_TUPLES else rebuilt
    if task in _FIRST_ITEMS_TO_TUPLES:
        return [[_tuple(x) for x in args[0]], args[1]]
    if task in _SECOND_TO_TUPLE:
        return [args[0], _tuple(args[1])]
    if task in _FIRST_TO_TUPLE:
        return [_tuple(args[0]), *args[1:]]
    if task == 115:  # evalplus turns an empty list into {} (an empty dict), kept as it is
        return [[_set(x) if _isinstance(x, _list) and x else {} for x in args[0]]]
    if task == 124:
        return (_float(args[0]), _complex(args[1]))
    if task == 252:
        return [_complex(args[0])]
    if task == 278:
        first = [_tuple(x) if _isinstance(x, _list) else x for x in args[0]]
        return [_tuple(first)]
    if task == 307:
        return [_tuple(args[0]), args[1], args[2]]
    if task == 722:
        return [{k: _tuple(v) for k, v in args[0].items()}, *args[1:]]
    if task in _ALL_TO_TUPLES:
        return _deep_tuple(args)
    return args


def _flat(value: list[Any] | tuple[Any, ...]) -> bool:
    """Only exact None/bool/int/float/str items (one wire item each)."""
    return _set(_map(_type, value)) <= _SCALARS


def _flat_digest(h: Any, value: list[Any] | tuple[Any, ...]) -> None:
    """Hash a flat sequence: each item's type code, then the floats as IEEE bytes, the ints (as
    int64 bytes, or their text when they do not fit) and the strings as JSON, with lengths."""
    h.update(_bytes(_map(_CODES.__getitem__, _map(_type, value))))
    floats = [x for x in value if _type(x) is _float]
    ints = [x for x in value if _type(x) is _int]
    strs = [x for x in value if _type(x) is _str]
    try:
        int_bytes = _array("q", ints).tobytes()
    except OverflowError:
        int_bytes = _repr(ints).encode()
    for part in (_array("d", floats).tobytes(), int_bytes, _dumps(strs).encode()):
        h.update(_repr(_len(part)).encode() + b":")
        h.update(part)


def digest(value: Any) -> str:
    """SHA-256 of a long value's exact-type form: a str's UTF-8, a flat list/tuple by
    :func:`_flat_digest`, else its wire encoding chunk by chunk."""
    kind = _type(value)
    h = _sha256(b"str" if kind is _str else b"list" if kind is _list else b"tuple")
    if kind is _str:
        h.update(value.encode("utf-8", "surrogatepass"))
    elif _flat(value):
        _flat_digest(h, value)
    else:
        for start in range(0, _len(value), _CHUNK):
            h.update(_dumps(_encode(_list(value[start : start + _CHUNK]))).encode())
    return h.hexdigest()


def _too_big(value: list[Any] | tuple[Any, ...]) -> bool:
    if _flat(value):
        return _len(value) >= MAX_ITEMS - 16  # the wrapping tuple and the list count too
    try:
        _encode(value)
    except _WireError:
        return True
    return False


def wrap(value: Any) -> tuple[str, Any]:
    """``(kind, value)`` as described in the module docstring; by exact type, also ``"int"`` (a
    big int as hex), ``"digest"`` (a str, list or tuple too long to ship cheaply or at all) and
    Counter/OrderedDict/defaultdict as a plain dict."""
    kind = _type(value)
    if kind is _set:
        return ("set", _list(value))
    if kind is _frozenset:
        return ("frozenset", _list(value))
    if kind is _int and _abs(value) > BIG_INT:
        return ("int", _hex(value))
    if kind is _str and _len(value) > LONG_STR:
        return ("digest", digest(value))
    if (kind is _list or kind is _tuple) and _len(value) > LONG_SEQUENCE and _too_big(value):
        return ("digest", digest(value))
    if kind is Counter or kind is OrderedDict or kind is defaultdict:  # evalplus' ``==`` sees a dict
        return ("v", _dict(value))
    return ("v", value)


def call_input(solution: Any, function: str, args: str, task: int = 0) -> tuple[str, Any]:
    """``solution.<function>(*input)``: ``args`` is the input as stored (JSON text, parsed here:
    cheaper to ship than the wire's tagged form), rebuilt for MBPP+ task ``task`` (0: as is)."""
    fn = _getattr(solution, function, _MISSING)
    if fn is _MISSING:
        raise NameError(f"name {function!r} is not defined")
    stored = _json_decode(args)
    return wrap(fn(*(mbpp_input(task, stored) if task else stored)))
