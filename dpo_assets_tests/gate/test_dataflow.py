"""Gate layer 6 (dataflow): the bundled corpus and per-rule snippets."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from dpo_assets.corpus.bundled import load_labels, load_samples
from dpo_assets.gate.layers import dataflow
from dpo_assets.tasks import get_task, load_catalog
from dpo_assets.tasks.base import AppendEachResult, AppendEveryIteration, CarryState, DataflowRule

CATALOG = load_catalog()


def _corpus(predicate) -> list:
    params = []
    for task_id in CATALOG:
        labels = load_labels(task_id)
        for sample_id, sample in load_samples(task_id).items():
            if predicate(labels[sample_id]):
                params.append(pytest.param(task_id, sample["code"], id=sample_id))
    return params


@pytest.mark.parametrize("task_id", list(CATALOG))
def test_reference_is_clean(task_id: str) -> None:
    task = CATALOG[task_id]
    assert dataflow.check(task, task.reference_source) == []


@pytest.mark.parametrize(("task_id", "code"), _corpus(lambda label: label["label"] == "correct"))
def test_correct_samples_are_clean(task_id: str, code: str) -> None:
    assert dataflow.check(CATALOG[task_id], code) == []


@pytest.mark.parametrize(("task_id", "code"), _corpus(lambda label: 6 in label.get("caught_by", [])))
def test_labelled_samples_are_caught(task_id: str, code: str) -> None:
    assert dataflow.check(CATALOG[task_id], code)


def test_syntax_error_is_left_to_layer_5() -> None:
    assert dataflow.check(CATALOG["monte_carlo/metropolis"], "def mcmc_sample(:\n") == []


def test_missing_function_is_skipped() -> None:
    assert dataflow.check(CATALOG["monte_carlo/metropolis"], "x = 1\n") == []


# ------------------------------------------------------------------------ snippets


def _check(rule: DataflowRule, code: str) -> list:
    task = dataclasses.replace(get_task("monte_carlo/metropolis"), dataflow=(rule,))
    return dataflow.check(task, textwrap.dedent(code))


APPEND = AppendEveryIteration("sample", "step")
CARRY = CarryState("sample", "step", arg_index=0, result_index=0)

HEADER = """
def step(x):
    return x + 1, True
"""

APPEND_GOOD = {
    "unconditional": """
        def sample(x, n, burn_in=0):
            out = []
            for _ in range(n):
                x, acc = step(x)
                out.append(x)
            return out
    """,
    "preallocated": """
        def sample(x, n, burn_in=0):
            out = [0.0] * n
            for i in range(n):
                x, _ = step(x)
                out[i] = x
            return out
    """,
    "burn_in_guard": """
        def sample(x, n, burn_in=0):
            out = []
            for i in range(n + burn_in):
                x, _ = step(x)
                if i >= burn_in:
                    out.append(x)
            return out
    """,
    "burn_in_continue": """
        def sample(x, n, burn_in=0):
            out = []
            for i in range(n + burn_in):
                x, _ = step(x)
                if i < burn_in:
                    continue
                out.append(x)
            return out
    """,
    "separate_burn_in_loop": """
        def sample(x, n, burn_in=0):
            for _ in range(burn_in):
                x, _ = step(x)
            out = []
            while len(out) < n:
                x, _ = step(x)
                out.append(x)
            return out
    """,
    "both_branches": """
        def sample(x, n, burn_in=0):
            out = []
            for _ in range(n):
                y, acc = step(x)
                if acc:
                    x = y
                    out.append(x)
                else:
                    out.append(x)
            return out
    """,
    "comprehension": """
        def sample(x, n, burn_in=0):
            return [(x := step(x)[0]) for _ in range(n)]
    """,
    "generator_helper": """
        def _chain(x):
            while True:
                x, _ = step(x)
                yield x

        def sample(x, n, burn_in=0):
            gen = _chain(x)
            return [next(gen) for _ in range(n)]
    """,
}

APPEND_BAD = {
    "only_accepted": """
        def sample(x, n, burn_in=0):
            out = []
            while len(out) < n:
                x, accepted = step(x)
                if accepted:
                    out.append(x)
            return out
    """,
    "continue_when_rejected": """
        def sample(x, n, burn_in=0):
            out = []
            for _ in range(n):
                x, accepted = step(x)
                if not accepted:
                    continue
                out.append(x)
            return out
    """,
    "state_condition": """
        def sample(x, n, burn_in=0):
            out = []
            for _ in range(n):
                x, _ = step(x)
                if x > 0:
                    out.append(x)
            return out
    """,
    "no_append": """
        def sample(x, n, burn_in=0):
            for _ in range(n):
                x, _ = step(x)
            return [x] * n
    """,
    "via_helper": """
        def advance(x):
            return step(x)

        def sample(x, n, burn_in=0):
            out = []
            for _ in range(n):
                x, acc = advance(x)
                if acc:
                    out.append(x)
            return out
    """,
}


@pytest.mark.parametrize("code", list(APPEND_GOOD.values()), ids=list(APPEND_GOOD))
def test_append_every_iteration_accepts(code: str) -> None:
    assert _check(APPEND, HEADER + textwrap.dedent(code)) == []


@pytest.mark.parametrize("code", list(APPEND_BAD.values()), ids=list(APPEND_BAD))
def test_append_every_iteration_flags(code: str) -> None:
    assert _check(APPEND, HEADER + textwrap.dedent(code))


CARRY_GOOD = {
    "unpack": "x, acc = step(x)",
    "index": "x = step(x)[0]",
    "result_then_index": "res = step(x)\n        x = res[0]",
    "result_then_unpack": "res = step(x)\n        x, acc = res",
    "new_name_fed_back": "new, acc = step(x)\n        x = new",
    "walrus": "acc = (x := step(x)[0]) > 0",
}

CARRY_BAD = {
    "underscore": "_ = step(x)",
    "all_underscores": "_, _ = step(x)",
    "bare_statement": "step(x)",
    "flag_only": "acc = step(x)[1]",
    "other_name": "new, acc = step(x)",
    "result_flag_only": "res = step(x)\n        acc = res[1]",
    "always_initial": "x, acc = step(initial)",
}


def _carry_code(body: str) -> str:
    return HEADER + textwrap.dedent("""
    def sample(initial, n, burn_in=0):
        x = initial
        out = []
        for _ in range(n):
            {body}
            out.append(x)
        return out
    """).replace("{body}", body)


@pytest.mark.parametrize("body", list(CARRY_GOOD.values()), ids=list(CARRY_GOOD))
def test_carry_state_accepts(body: str) -> None:
    assert _check(CARRY, _carry_code(body)) == []


@pytest.mark.parametrize("body", list(CARRY_BAD.values()), ids=list(CARRY_BAD))
def test_carry_state_flags(body: str) -> None:
    assert _check(CARRY, _carry_code(body))


LLM = AppendEachResult("sample", "llm", "messages")
TOOLS = AppendEachResult("sample", "tools", "messages")

EACH_GOOD = """
import json

def sample(llm, tools, task):
    messages = [{"role": "user", "content": task}]
    reply = llm(messages)
    messages.append({"role": "assistant", "content": reply})
    data = json.loads(reply)
    out = str(tools[data["tool"]](**data["args"]))
    messages.append({"role": "tool", "content": out})
    return {"messages": messages}
"""

EACH_RENAMED = """
def sample(llm, tools, task):
    msgs = [dict(role="user", content=task)]
    out = llm(msgs)
    msgs.append(dict(role="assistant", content=out))
    return dict(answer=None, messages=msgs)
"""

EACH_LENIENT = """
def _record(messages, reply):
    messages.append(reply)

def sample(llm, tools, task):
    messages = []
    _record(messages, llm(messages))
    value = tools["t"]()
    return value
"""

EACH_BAD_LLM = """
import json

def sample(llm, tools, task):
    messages = [{"role": "user", "content": task}]
    reply = llm(messages)
    data = json.loads(reply)
    messages.append({"role": "tool", "content": "error: " + str(data)})
    return {"messages": messages}
"""

EACH_BAD_TOOL = """
def sample(llm, tools, task):
    messages = []
    tools["search"](q=task)
    return {"messages": messages}
"""


def test_append_each_result_accepts() -> None:
    for rule in (LLM, TOOLS):
        assert _check(rule, EACH_GOOD) == []
    assert _check(LLM, EACH_RENAMED) == []
    assert _check(LLM, EACH_LENIENT) == []
    assert _check(TOOLS, EACH_LENIENT) == []


def test_append_each_result_flags() -> None:
    assert _check(LLM, EACH_BAD_LLM)
    assert _check(TOOLS, EACH_BAD_TOOL)
    assert _check(TOOLS, EACH_GOOD.replace('"content": out', '"content": "done"'))
