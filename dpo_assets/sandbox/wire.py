"""The value encoding that crosses the sandbox boundary.

Values produced by untrusted code are encoded *inside* the sandbox by exact type
(``type(x) is float``, never ``isinstance``), so a float subclass, a list subclass or
an object with a lying ``__eq__`` cannot pass for a real result: anything that is not
one of the plain types below arrives in the trusted parent as :class:`Foreign`,
carrying only its type name and a short repr.  Decoding never executes code (no
pickle); the payload is plain JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# Everything the encoder relies on is bound here, at import, before any candidate runs:
# a candidate that rebinds ``builtins.type`` or ``math.isnan`` cannot change how its
# results are classified.
_type, _abs, _all, _int, _list = type, abs, all, int, list
_NONE_T, _BOOL, _INT, _FLOAT, _COMPLEX, _STR = type(None), bool, int, float, complex, str
_LIST, _TUPLE, _DICT, _NDARRAY = list, tuple, dict, np.ndarray
_isnan, _isinf = math.isnan, math.isinf
_BIG = 2**63
# numpy's own scalar types, by identity (a candidate's np.generic subclass is not one).
_NP_SCALARS = {id(t): t for t in np.sctypeDict.values() if issubclass(t, np.generic)}

MAX_DEPTH = 24
MAX_ITEMS = 200_000
_REPR_LIMIT = 200


@dataclass(frozen=True)
class Foreign:
    """A value whose exact type is not one of the plain types the wire carries."""

    type_name: str
    repr: str
    value: Any = None  # the plain value for numpy scalars, else None

    def __eq__(self, other: object) -> bool:  # compare by identity of content only
        return (
            isinstance(other, Foreign)
            and other.type_name == self.type_name
            and other.repr == self.repr
        )

    def __hash__(self) -> int:
        return hash((self.type_name, self.repr))


class WireError(ValueError):
    """Raised when a payload cannot be encoded (too deep, too large)."""


def _type_name(obj: object) -> str:
    cls = _type(obj)
    module, name = cls.__module__, cls.__qualname__
    module = module if _type(module) is _STR else "?"
    name = name if _type(name) is _STR else "?"
    return module + "." + name


def _safe_repr(obj: object) -> str:
    try:
        text = object.__repr__(obj)
    except Exception:  # pragma: no cover - object.__repr__ does not fail in practice
        text = "<unrepresentable>"
    return text[:_REPR_LIMIT]




def _float(x: float) -> Any:
    if _isnan(x):
        return {"$f": "nan"}
    if _isinf(x):
        return {"$f": "inf" if x > 0 else "-inf"}
    return x


def encode(obj: Any) -> Any:
    """Encode ``obj`` into JSON-able data, by exact type."""
    budget = [MAX_ITEMS]
    return _encode(obj, 0, budget)


def _encode(obj: Any, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise WireError("value too large to transfer")
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply to transfer")
    t = _type(obj)
    if t is _NONE_T or t is _BOOL or t is _STR:
        return obj
    if t is _INT:
        if _abs(obj) > _BIG:
            return {"$int": _INT.__repr__(obj)}
        return obj
    if t is _FLOAT:
        return _float(obj)
    if t is _COMPLEX:
        return {"$c": [_float(obj.real), _float(obj.imag)]}
    if t is _LIST:
        return [_encode(x, depth + 1, budget) for x in _LIST.copy(obj)]
    if t is _TUPLE:
        return {"$t": [_encode(x, depth + 1, budget) for x in obj]}
    if t is _DICT:
        items = _list(_DICT.items(obj))
        if _all(_type(k) is _STR for k, _ in items):
            return {"$d": {k: _encode(v, depth + 1, budget) for k, v in items}}
        return {"$D": [[_encode(k, depth + 1, budget), _encode(v, depth + 1, budget)] for k, v in items]}
    if t is _NDARRAY:
        if obj.dtype.kind not in "biufc":
            return _foreign(obj)
        budget[0] -= _int(obj.size)
        if budget[0] < 0:
            raise WireError("array too large to transfer")
        data = [_encode(x, depth + 1, budget) for x in obj.ravel().tolist()]
        return {"$nd": {"dtype": obj.dtype.str, "shape": _list(obj.shape), "data": data}}
    if _NP_SCALARS.get(id(t)) is t and obj.dtype.kind in "biufc":
        return {"$np": {"type": _type_name(obj), "value": _encode(obj.item(), depth + 1, budget)}}
    return _foreign(obj)


def _foreign(obj: Any) -> dict[str, Any]:
    return {"$foreign": {"type": _type_name(obj), "repr": _safe_repr(obj)}}


def decode(data: Any) -> Any:
    """Decode what :func:`encode` produced; unknown shapes are rejected."""
    t = type(data)
    if data is None or t in (bool, int, float, str):
        return data
    if t is list:
        return [decode(x) for x in data]
    if t is not dict or len(data) != 1:
        raise WireError(f"malformed payload: {str(data)[:80]}")
    ((tag, body),) = data.items()
    if tag == "$f":
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[body]
    if tag == "$int":
        return int(body)
    if tag == "$c":
        return complex(decode(body[0]), decode(body[1]))
    if tag == "$t":
        return tuple(decode(x) for x in body)
    if tag == "$d":
        return {str(k): decode(v) for k, v in body.items()}
    if tag == "$D":
        return {_hashable(decode(k)): decode(v) for k, v in body}
    if tag == "$nd":
        values = [decode(x) for x in body["data"]]
        return np.array(values, dtype=np.dtype(body["dtype"])).reshape(body["shape"])
    if tag == "$np":
        return Foreign(body["type"], repr(decode(body["value"])), decode(body["value"]))
    if tag == "$foreign":
        return Foreign(str(body["type"]), str(body["repr"]))
    raise WireError(f"unknown payload tag {tag!r}")


def _hashable(key: Any) -> Any:
    if isinstance(key, list):
        return tuple(key)
    return key
