"""Reference implementation of pytest_traceback_repair/parse_duration."""

import re

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# One optional group per unit, in descending order; [0-9] is ASCII only (unlike \d).
_DURATION = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")


def parse_duration(text: str) -> int:
    """Total seconds of a duration such as ``"90s"``, ``"1h30m"`` or ``"2d5s"``."""
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"invalid duration: {text!r}")
    total = 0
    for digits, unit in zip(match.groups(), "dhms"):
        if digits is not None:
            total += int(digits) * _UNIT_SECONDS[unit]
    return total
