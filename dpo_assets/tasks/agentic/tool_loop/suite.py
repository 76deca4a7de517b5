"""pytest suite for agentic/tool_loop (imports the candidate as ``solution``)."""

import copy
import json

import pytest

from solution import run_agent


def tool_call(name, **args):
    return json.dumps({"tool": name, "args": args})


def final(answer):
    return json.dumps({"final": answer})


class Script:
    """A scripted llm: returns the replies in order and records copies of what it saw."""

    def __init__(self, *replies, repeat=None):
        self.replies = list(replies)
        self.repeat = repeat
        self.seen = []

    def __call__(self, messages):
        self.seen.append(copy.deepcopy(messages))
        index = len(self.seen) - 1
        if index < len(self.replies):
            return self.replies[index]
        if self.repeat is not None:
            return self.repeat
        raise AssertionError("llm called more often than scripted")


def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def echo(text):
    return text


def boom():
    raise RuntimeError("tool exploded")


TOOLS = {"add": add, "sub": sub, "echo": echo, "boom": boom}


def tool_messages(result):
    return [m["content"] for m in result["messages"] if m["role"] == "tool"]


def test_immediate_final_answer():
    llm = Script(final(42))
    result = run_agent(llm, TOOLS, "what is 6*7?")
    assert result == {
        "answer": 42,
        "steps": 1,
        "messages": [
            {"role": "user", "content": "what is 6*7?"},
            {"role": "assistant", "content": final(42)},
        ],
    }
    assert type(result["steps"]) is int
    assert len(llm.seen) == 1
    assert llm.seen[0] == [{"role": "user", "content": "what is 6*7?"}]


def test_tool_call_then_final():
    llm = Script(tool_call("add", a=2, b=3), final("five"))
    result = run_agent(llm, TOOLS, "add 2 and 3")
    assert result["answer"] == "five"
    assert result["steps"] == 2
    assert result["messages"] == [
        {"role": "user", "content": "add 2 and 3"},
        {"role": "assistant", "content": tool_call("add", a=2, b=3)},
        {"role": "tool", "content": "5"},
        {"role": "assistant", "content": final("five")},
    ]
    assert llm.seen[1] == result["messages"][:3]


def test_tool_result_is_str_of_the_return_value():
    def obj():
        return {"k": [1, 2]}

    def nothing():
        return None

    llm = Script(tool_call("obj"), tool_call("nothing"), tool_call("echo", text="hi"), final(0))
    result = run_agent(llm, {"obj": obj, "nothing": nothing, "echo": echo}, "t")
    assert tool_messages(result) == [str({"k": [1, 2]}), "None", "hi"]


def test_args_are_passed_by_keyword():
    llm = Script(json.dumps({"tool": "sub", "args": {"b": 10, "a": 3}}), final(None))
    result = run_agent(llm, TOOLS, "t")
    assert tool_messages(result) == ["-7"]


def test_keyword_only_tool():
    def strict(*, x):
        return x * 2

    result = run_agent(Script(tool_call("strict", x=4), final(1)), {"strict": strict}, "t")
    assert tool_messages(result) == ["8"]


def test_unknown_tool_is_an_error_and_the_loop_goes_on():
    llm = Script(tool_call("nope", x=1), final("ok"))
    result = run_agent(llm, TOOLS, "t")
    assert result["answer"] == "ok"
    assert result["steps"] == 2
    [content] = tool_messages(result)
    assert content.startswith("error:")


def test_rejected_arguments_are_an_error():
    llm = Script(tool_call("add", a=1), tool_call("add", a=1, b=2, c=3), final(1))
    result = run_agent(llm, TOOLS, "t")
    assert all(c.startswith("error:") for c in tool_messages(result))
    assert len(tool_messages(result)) == 2


def test_a_failing_tool_is_called_once():
    calls = []

    def flaky():
        calls.append(1)
        raise RuntimeError("flaky")

    result = run_agent(Script(tool_call("flaky"), final(1)), {"flaky": flaky}, "t")
    assert calls == [1]
    assert tool_messages(result)[0].startswith("error:")


@pytest.mark.parametrize("exc", [RuntimeError, ValueError, KeyError, TypeError, ZeroDivisionError, OSError,
                                 StopIteration, LookupError, Exception])
def test_tool_exceptions_never_escape(exc):
    def failing():
        raise exc("bad")

    result = run_agent(Script(tool_call("failing"), final("survived")), {"failing": failing}, "t")
    assert result["answer"] == "survived"
    [content] = tool_messages(result)
    assert content.startswith("error:")


@pytest.mark.parametrize(
    "reply",
    [
        "not json at all",
        'Sure: {"final": 1}',
        '{"final": 1} trailing',
        "",
        "{",
        "[1, 2]",
        '["final"]',
        "3",
        "null",
        "true",
        '"final"',
        "{}",
        '{"tool": null, "args": {}}',
        '{"tool": ["add"], "args": {}}',
        '{"tool": {"n": 1}, "args": {}}',
        '{"tool": "add", "args": [1, 2]}',
        '{"tool": "add", "args": "a=1"}',
        '{"tool": "add", "args": null}',
        '{"tool": "add"}',
        '{"args": {"a": 1}}',
    ],
)
def test_bad_replies_are_errors(reply):
    llm = Script(reply, final("next"))
    result = run_agent(llm, TOOLS, "t")
    assert result["answer"] == "next"
    assert result["steps"] == 2
    assert result["messages"][1] == {"role": "assistant", "content": reply}
    assert result["messages"][2]["role"] == "tool"
    assert result["messages"][2]["content"].startswith("error:")


@pytest.mark.parametrize("answer", [None, 0, False, "", [], {"a": [1, None]}, 2.5])
def test_falsy_and_structured_final_answers(answer):
    result = run_agent(Script(final(answer)), TOOLS, "t")
    assert result["steps"] == 1
    assert result["answer"] == answer
    assert type(result["answer"]) is type(answer)


def test_whitespace_around_json_is_fine_and_the_reply_is_kept_verbatim():
    reply = '  {"final": 7}\n'
    result = run_agent(Script(reply), TOOLS, "t")
    assert result["answer"] == 7
    assert result["messages"][-1] == {"role": "assistant", "content": reply}


def test_max_steps_exhausted():
    llm = Script(repeat=tool_call("add", a=1, b=2))
    result = run_agent(llm, TOOLS, "loop", max_steps=3)
    assert result["answer"] is None
    assert result["steps"] == 3
    assert len(llm.seen) == 3
    assert len(result["messages"]) == 7
    assert [m["role"] for m in result["messages"]] == ["user"] + ["assistant", "tool"] * 3
    assert [len(s) for s in llm.seen] == [1, 3, 5]


def test_max_steps_one():
    llm = Script(repeat="garbage")
    result = run_agent(llm, TOOLS, "t", 1)
    assert result["answer"] is None
    assert result["steps"] == 1
    assert len(llm.seen) == 1


def test_final_on_the_last_allowed_step():
    llm = Script(tool_call("echo", text="a"), tool_call("echo", text="b"), final("c"))
    result = run_agent(llm, TOOLS, "t", max_steps=3)
    assert result["answer"] == "c"
    assert result["steps"] == 3


def test_default_max_steps_is_eight():
    llm = Script(repeat="garbage")
    result = run_agent(llm, TOOLS, "t")
    assert result["steps"] == 8
    assert result["answer"] is None
    assert len(llm.seen) == 8


@pytest.mark.parametrize("max_steps", [0, -1, -100])
def test_bad_max_steps(max_steps):
    llm = Script(final(1))
    with pytest.raises(ValueError):
        run_agent(llm, TOOLS, "t", max_steps=max_steps)
    assert llm.seen == []


class Down(Exception):
    pass


def test_llm_exceptions_propagate():
    def llm(messages):
        raise Down("model unavailable")

    with pytest.raises(Down):
        run_agent(llm, TOOLS, "t")


def test_llm_exception_after_some_steps_propagates():
    calls = []

    def llm(messages):
        calls.append(len(messages))
        if len(calls) == 3:
            raise Down("gone")
        return tool_call("add", a=1, b=1)

    with pytest.raises(Down):
        run_agent(llm, TOOLS, "t", max_steps=5)
    assert calls == [1, 3, 5]


def test_each_run_starts_a_fresh_conversation():
    first = run_agent(Script(tool_call("add", a=1, b=2), final(3)), TOOLS, "first")
    llm = Script(final(1))
    second = run_agent(llm, TOOLS, "second")
    assert llm.seen[0] == [{"role": "user", "content": "second"}]
    assert len(second["messages"]) == 2
    assert len(first["messages"]) == 4


def test_tools_dict_is_not_mutated():
    tools = dict(TOOLS)
    run_agent(Script(tool_call("nope"), tool_call("add", a=1, b=2), final(1)), tools, "t")
    assert tools == TOOLS


def test_empty_tools():
    result = run_agent(Script(tool_call("add", a=1, b=2), final(1)), {}, "t")
    assert tool_messages(result)[0].startswith("error:")


def test_a_long_storm_of_tool_calls():
    count = []

    def tick():
        count.append(1)
        return len(count)

    llm = Script(repeat=tool_call("tick"))
    result = run_agent(llm, {"tick": tick}, "t", max_steps=200)
    assert result["steps"] == 200
    assert len(count) == 200
    assert len(llm.seen) == 200
    assert tool_messages(result)[-1] == "200"


def test_huge_reply_and_huge_tool_output():
    def big():
        return "x" * 100_000

    result = run_agent(Script("y" * 100_000, tool_call("big"), final("ok")), {"big": big}, "t")
    contents = tool_messages(result)
    assert contents[0].startswith("error:")
    assert contents[1] == "x" * 100_000
