"""pytest suite for pytest_traceback_repair/parse_duration (imports the candidate as ``solution``)."""

import pytest

from solution import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("1m", 60),
        ("1h", 3600),
        ("1d", 86400),
        ("1h30m", 5400),
        ("2d5s", 172805),
        ("1d2h3m4s", 93784),
        ("3d4m", 259440),
        ("10h59s", 36059),
    ],
)
def test_valid_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_result_is_a_plain_int():
    result = parse_duration("1h30m")
    assert type(result) is int
    assert result == 5400


def test_zero_groups_and_leading_zeros():
    assert parse_duration("0s") == 0
    assert parse_duration("0d0h0m0s") == 0
    assert parse_duration("007s") == 7
    assert parse_duration("01h05m") == 3900


def test_large_values_are_exact():
    assert parse_duration("1000000d") == 86_400_000_000
    assert parse_duration("123456789012345678901234567890s") == 123456789012345678901234567890
    assert parse_duration("99999999999999999999d1s") == 99999999999999999999 * 86400 + 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "90",
        "s",
        "h30m",
        "1h30",
        "1H",
        "1D",
        "5S",
        "1x",
        "5sec",
        "1h 30m",
        " 1h",
        "1h ",
        "1h\n",
        "\t5s",
        "-5s",
        "+5s",
        "1h-30m",
        "1h1h",
        "1s1s",
        "1m1h",
        "1s1d",
        "1h1d",
        "1.5h",
        "1_000s",
        "1,5m",
        "1hh",
        "1ms",
    ],
)
def test_invalid_text_raises_value_error(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("text", ["\u0663s", "1\u0663m", "\uff15s", "\u00b2s", "\u0967h"])
def test_non_ascii_digits_are_rejected(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("value", [None, 90, 5.0, b"5s", ["5s"]])
def test_non_string_raises(value):
    with pytest.raises((TypeError, ValueError)):
        parse_duration(value)


def test_every_ordered_combination():
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    names = "dhms"
    for mask in range(1, 16):
        chosen = [u for i, u in enumerate(names) if mask & (1 << i)]
        text = "".join(f"{i + 2}{u}" for i, u in enumerate(chosen))
        expected = sum((i + 2) * units[u] for i, u in enumerate(chosen))
        assert parse_duration(text) == expected


def test_every_misordered_pair_raises():
    names = "dhms"
    for i, first in enumerate(names):
        for second in names[: i + 1]:
            with pytest.raises(ValueError):
                parse_duration(f"1{first}2{second}")
