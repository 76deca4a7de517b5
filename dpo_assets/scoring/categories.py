"""Failure categories of a scored problem and the classifier that picks exactly one.

The first failing input decides. Exceptions are classified by their class hierarchy as the
sandbox reports it (a candidate's own ``class Oops(KeyError)`` is a lookup error):

- ``SYNTAX_ERROR``: the program does not compile (``SyntaxError``, ``IndentationError``,
  ``TabError``) when it is loaded. A ``SyntaxError`` raised later (``eval`` of a bad string)
  is an ``OTHER_RUNTIME``.
- ``NAME_ERROR``: a name does not resolve: ``NameError`` (incl. ``UnboundLocalError``), the
  entry point is not defined, or an import fails (``ImportError``/``ModuleNotFoundError``): a
  missing ``import math`` shows up as ``NameError`` and a wrong ``from x import y`` as
  ``ImportError``; both are the same mistake, a name the code relies on is not there.
- ``ASSERTION_FAIL``: a wrong output, or an ``AssertionError`` raised.
- ``LOOKUP_ERROR``: ``IndexError``, ``KeyError`` (any ``LookupError``).
- ``TYPE_ERROR``: ``TypeError``.
- ``TIMEOUT``: the per-input, per-problem or CPU time limit ran out.
- ``OTHER_RUNTIME``: any other exception (``ZeroDivisionError``, ``ValueError``,
  ``RecursionError``, ``SystemExit``...), running out of memory, or a process that ended early
  (``os._exit``) or broke the sandbox's result channel.
- ``MISSING``: no sample for the problem.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Sequence


class Category(enum.StrEnum):
    """Outcome of one benchmark problem (``PASS`` or the reason it failed)."""

    PASS = "PASS"
    SYNTAX_ERROR = "SYNTAX_ERROR"
    NAME_ERROR = "NAME_ERROR"
    ASSERTION_FAIL = "ASSERTION_FAIL"
    LOOKUP_ERROR = "LOOKUP_ERROR"
    TYPE_ERROR = "TYPE_ERROR"
    TIMEOUT = "TIMEOUT"
    OTHER_RUNTIME = "OTHER_RUNTIME"
    MISSING = "MISSING"


FAILURES = tuple(c for c in Category if c is not Category.PASS)

_SYNTAX = ("builtins.SyntaxError",)  # IndentationError and TabError are subclasses
_BY_BASE = (
    ("builtins.NameError", Category.NAME_ERROR),  # UnboundLocalError is a subclass
    ("builtins.ImportError", Category.NAME_ERROR),  # ModuleNotFoundError is a subclass
    ("builtins.AssertionError", Category.ASSERTION_FAIL),
    ("builtins.LookupError", Category.LOOKUP_ERROR),
    ("builtins.TypeError", Category.TYPE_ERROR),
)


def classify(error_mro: Sequence[str], *, at_import: bool = False) -> Category:
    """The category of an exception, given the qualified names of its classes (most derived
    first, as :class:`~dpo_assets.sandbox.outcome.Observation.error_mro`)."""
    names = set(error_mro)
    if at_import and names.intersection(_SYNTAX):
        return Category.SYNTAX_ERROR
    for base, category in _BY_BASE:
        if base in names:
            return category
    return Category.OTHER_RUNTIME


def exception_name(error_type: str) -> str:
    """The class name of a qualified exception type: ``builtins.KeyError`` -> ``KeyError``,
    ``candidate:Oops`` -> ``Oops``, ``json.decoder.JSONDecodeError`` -> ``JSONDecodeError``."""
    return error_type.rpartition(":")[2].rpartition(".")[2]


def builtin_mro(name: str) -> tuple[str, ...]:
    """Qualified MRO of a builtin exception named ``name`` (e.g. ``"IndentationError"`` or
    ``"builtins.IndentationError"``); just the name itself when it is not a builtin exception."""
    short = name.removeprefix("builtins.")
    cls = getattr(builtins, short, None)
    if isinstance(cls, type) and issubclass(cls, BaseException):
        return tuple(f"builtins.{c.__qualname__}" for c in cls.__mro__)
    return (name,)
