"""Drivers for parse_duration: call the candidate, return raw results (no judgement)."""

from __future__ import annotations


class _Stringly:
    """Not a ``str``, but ``str()`` of it is the given text (a non-str argument)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"_Stringly({self._text!r})"


def _argument(text: str, kind: str):
    if kind == "str":
        return text
    if kind == "bytes":
        return text.encode("utf-8")
    if kind == "bytearray":
        return bytearray(text.encode("utf-8"))
    if kind == "none":
        return None
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "list":
        return [text]
    if kind == "stringly":
        return _Stringly(text)
    raise LookupError(f"unknown argument kind {kind!r}")


def parse(solution, text: str = "", kind: str = "str"):
    """``parse_duration`` on ``text`` (or on a non-str built from it when ``kind`` says so)."""
    return solution.parse_duration(_argument(text, kind))
