"""Parse compact durations such as "90s", "1h30m" or "2d5s"."""

import re

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> int:
    """Total number of seconds in ``text``."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"invalid duration: {text!r}")
    total = 0
    for digits, unit in zip(match.groups(), "dhms"):
        if digits:
            total += int(digits) * _UNIT_SECONDS[unit]
    return total
