"""The failure classifier and the trusted comparison (no sandbox needed)."""

from __future__ import annotations

import math

import pytest

from dpo_assets.sandbox.wire import Foreign, decode, encode
from dpo_assets.scoring import harness, oracle
from dpo_assets.scoring.categories import Category, builtin_mro, classify, exception_name


@pytest.mark.parametrize(
    ("name", "at_import", "expected"),
    [
        ("SyntaxError", True, Category.SYNTAX_ERROR),
        ("IndentationError", True, Category.SYNTAX_ERROR),
        ("SyntaxError", False, Category.OTHER_RUNTIME),
        ("NameError", False, Category.NAME_ERROR),
        ("UnboundLocalError", False, Category.NAME_ERROR),
        ("ModuleNotFoundError", True, Category.NAME_ERROR),
        ("ImportError", False, Category.NAME_ERROR),
        ("AssertionError", False, Category.ASSERTION_FAIL),
        ("IndexError", False, Category.LOOKUP_ERROR),
        ("KeyError", False, Category.LOOKUP_ERROR),
        ("TypeError", False, Category.TYPE_ERROR),
        ("ZeroDivisionError", False, Category.OTHER_RUNTIME),
        ("RecursionError", False, Category.OTHER_RUNTIME),
        ("SystemExit", True, Category.OTHER_RUNTIME),
        ("MemoryError", False, Category.OTHER_RUNTIME),
    ],
)
def test_builtin_exceptions_map_to_one_category(name: str, at_import: bool, expected: Category) -> None:
    assert classify(builtin_mro(name), at_import=at_import) is expected


def test_a_candidates_subclass_is_classified_by_its_bases() -> None:
    mro = ("candidate:Oops", "builtins.KeyError", "builtins.LookupError", "builtins.Exception")
    assert classify(mro) is Category.LOOKUP_ERROR
    assert classify(("candidate:Weird",)) is Category.OTHER_RUNTIME


def test_exception_names() -> None:
    assert exception_name("builtins.KeyError") == "KeyError"
    assert exception_name("candidate:Oops") == "Oops"
    assert exception_name("json.decoder.JSONDecodeError") == "JSONDecodeError"
    assert builtin_mro("NotAnException") == ("NotAnException",)


def shipped(value: object) -> object:
    """What the parent sees of a value a candidate returned (wrapped, over the wire)."""
    return oracle.unwrap(decode(encode(harness.wrap(value))))


def test_equality_follows_evalplus_on_plain_values() -> None:
    assert oracle.outputs_match(shipped(1), 1.0, 0)  # 1 == 1.0, as in evalplus
    assert not oracle.outputs_match(shipped([1, 2]), (1, 2), 0)
    assert oracle.outputs_match(shipped(0.1 + 0.2), 0.3, 0)  # a float: atol 1e-6
    assert not oracle.outputs_match(shipped(0.31), 0.3, 0)
    assert oracle.outputs_match(shipped([1.0, 2.0000001]), [1.0, 2.0], 0)
    assert not oracle.outputs_match(shipped((1.0, 2.0000001)), [1.0, 2.0], 0)  # same type needed
    assert oracle.outputs_match(shipped(3.00005), 3.0, 1e-4)
    assert not oracle.outputs_match(shipped(math.nan), math.nan, 1e-4)


def test_lying_objects_never_match() -> None:
    class Yes:
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

    class LyingInt(int):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = int.__hash__

    for value in (Yes(), LyingInt(7), [Yes()], {"k": Yes()}):
        got = shipped(value)
        assert isinstance(got, Foreign) or "Foreign" in repr(got)
        for expected in (1, [1], {"k": 1}, True, None):
            assert not oracle.outputs_match(got, expected, 1e-4)


def test_sets_counters_big_ints_and_long_results_survive_the_trip() -> None:
    from collections import Counter

    assert shipped({3, 1}) == {1, 3}
    assert shipped(frozenset({2})) == frozenset({2})
    assert shipped(Counter("aab")) == {"a": 2, "b": 1}
    big = 7**20000  # beyond the 4300-digit limit of int <-> str
    assert shipped(big) == big
    long = [i / 2 for i in range(300_000)]
    assert shipped(long) == shipped(list(long))
    assert shipped(long) != shipped([*long[:-1], 0.0])
    assert shipped("x" * 50_000) != shipped("x" * 49_999 + "y")
    assert isinstance(shipped(long), oracle.Digest)


def test_special_oracles() -> None:
    find_zero = oracle.special_check("humaneval", "HumanEval/32", "find_zero")
    assert find_zero is not None
    assert find_zero(1.0, 3.0, [[-1.0, 1.0]], 1e-4)  # a root other than the reference's is fine
    assert not find_zero(2.0, 1.0, [[-1.0, 1.0]], 1e-4)
    assert not find_zero(True, 1.0, [[-1.0, 1.0]], 1e-4)
    not_none = oracle.special_check("mbpp", "Mbpp/737", "check_str")
    assert not_none is not None
    assert not_none(Foreign("re.Match", "<re.Match>"), True, ["a"], 0)
    assert not_none(False, False, ["a"], 0) and not not_none(None, True, ["a"], 0)
    set_eq = oracle.special_check("mbpp", "Mbpp/2", "similar_elements")
    assert set_eq is not None and set_eq([5, 4], (4, 5), [], 0) and not set_eq([4], (4, 5), [], 0)
    assert oracle.special_check("mbpp", "Mbpp/3", "is_not_prime") is None


def test_mbpp_inputs_are_rebuilt_like_evalplus() -> None:
    assert harness.mbpp_input(2, [[3, 4], [5]]) == [(3, 4), (5,)]
    assert harness.mbpp_input(115, [[[1], []]]) == [[{1}, {}]]
    assert harness.mbpp_input(124, [1, "1+2j"]) == (1.0, 1 + 2j)
    assert harness.mbpp_input(580, [[1, [2, 3]], 4]) == ((1, (2, 3)), 4)
    assert harness.mbpp_input(3, [7]) == [7]


def test_describe_is_short_and_safe() -> None:
    assert len(oracle.describe(list(range(10_000)))) <= 120
    assert "digits" in oracle.describe(10**10_000)
