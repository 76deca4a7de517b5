"""Trusted-side material for agentic/tool_loop: a literal model of the contract, the
report comparison (exact types, free-form ``error:`` texts) and the case catalog."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from dpo_assets.sandbox.outcome import Call, Observation
from dpo_assets.sandbox.wire import decode, encode
from dpo_assets.tasks import checks
from dpo_assets.tasks.agentic.tool_loop import harness
from dpo_assets.tasks.base import Case, DifferentialCase, PropertySpec

# ---- a literal model of the contract (run in the parent through the trusted harness) ----


def model_run_agent(llm, tools, task, max_steps=8):
    if max_steps < 1:
        raise ValueError("max_steps < 1")
    messages = [{"role": "user", "content": task}]
    calls = 0
    while calls < max_steps:
        reply = llm(messages)
        calls += 1
        messages.append({"role": "assistant", "content": reply})
        try:
            parsed = json.loads(reply)
        except Exception:
            parsed = None
        if type(parsed) is dict and "final" in parsed:
            return {"answer": parsed["final"], "steps": calls, "messages": messages}
        if (
            type(parsed) is dict
            and type(parsed.get("tool")) is str
            and parsed["tool"] in tools
            and type(parsed.get("args")) is dict
        ):
            try:
                content = str(tools[parsed["tool"]](**parsed["args"]))
            except Exception as exc:
                content = "error: " + repr(exc)
        else:
            content = "error: not a final answer or a known tool call"
        messages.append({"role": "tool", "content": content})
    return {"answer": None, "steps": max_steps, "messages": messages}


def _freeze(kwargs: Mapping[str, Any]) -> str:
    return json.dumps(kwargs, sort_keys=True)


@lru_cache(maxsize=512)
def _expected_report(frozen: str) -> Any:
    kwargs = json.loads(frozen)
    return decode(encode(harness.run_once(model_run_agent, **kwargs)))


def expected_report(kwargs: Mapping[str, Any]) -> Any:
    """What the driver reports for a contract-true ``run_agent`` (cached)."""
    return _expected_report(_freeze(kwargs))


# ---- comparison ----------------------------------------------------------------------------


def _is_error_content(value: Any) -> bool:
    if type(value) is str:
        return value.startswith("error:")
    if type(value) is dict and set(value) == {"long_str", "sha256", "head"}:
        return type(value["head"]) is str and value["head"].startswith("error:")
    return False


def _is_error_message(value: Any) -> bool:
    return (
        type(value) is dict
        and set(value) == {"role", "content"}
        and value["role"] == "tool"
        and _is_error_content(value["content"])
    )


def same(actual: Any, expected: Any, where: str = "") -> str | None:
    """Exact-type structural equality; dict key order ignored; ``error:`` texts free."""
    at = where or "value"
    if _is_error_message(expected):
        if type(actual) is not dict or set(actual) != {"role", "content"}:
            return f"{at}: expected a tool error message, got {checks.type_name(actual)} {actual!r:.120}"
        if type(actual["role"]) is not str or actual["role"] != "tool":
            return f"{at}: expected role 'tool', got {actual['role']!r:.60}"
        if not _is_error_content(actual["content"]):
            return f"{at}: expected content starting with 'error:', got {actual['content']!r:.120}"
        return None
    if type(actual) is not type(expected):
        return (
            f"{at}: expected {checks.type_name(expected)} {expected!r:.80}, "
            f"got {checks.type_name(actual)} {actual!r:.80}"
        )
    if type(expected) in (list, tuple):
        if len(actual) != len(expected):
            return f"{at}: expected {len(expected)} items, got {len(actual)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            reason = same(a, e, f"{at}[{i}]")
            if reason:
                return reason
        return None
    if type(expected) is dict:
        if set(actual) != set(expected):
            return f"{at}: expected keys {sorted(map(str, expected))}, got {sorted(map(str, actual))}"
        for key in expected:
            reason = same(actual[key], expected[key], f"{at}[{key!r}]")
            if reason:
                return reason
        return None
    if type(expected) is float and expected != expected:
        return None if actual != actual else f"{at}: expected nan, got {actual!r}"
    if actual != expected:
        return f"{at}: expected {expected!r:.120}, got {actual!r:.120}"
    return None


_REPORT_KEYS = {
    "outcome", "result", "error", "llm_error_same", "llm_calls", "seen", "tool_log", "tools_after",
}


def compare_reports(actual: Any, expected: Any) -> str | None:
    """Judge one driver report against the expected one."""
    if type(actual) is not dict or set(actual) != _REPORT_KEYS:
        return f"malformed driver report {actual!r:.120}"
    if actual["outcome"] != expected["outcome"]:
        if actual["outcome"] == "raised":
            return f"run_agent raised {actual['error'][0]}; expected outcome {expected['outcome']}"
        if expected["outcome"] == "llm_error":
            return "the llm's exception did not propagate"
        if expected["outcome"] == "raised":
            return f"expected {expected['error'][0]}, run_agent returned"
        return f"expected outcome {expected['outcome']}, got {actual['outcome']}"
    if expected["outcome"] == "raised" and expected["error"][0] not in actual["error"]:
        return f"expected {expected['error'][0]}, got {actual['error'][0]}"
    if expected["outcome"] == "llm_error" and actual["llm_error_same"] is not True:
        return "a different exception than the llm's own propagated"
    if actual["llm_calls"] != expected["llm_calls"]:
        return f"llm called {actual['llm_calls']} times, expected {expected['llm_calls']}"
    for key, label in (("result", "result"), ("seen", "messages seen by llm"), ("tool_log", "tool calls")):
        reason = same(actual[key], expected[key], label)
        if reason:
            return reason
    return same(actual["tools_after"], expected["tools_after"], "tools dict after the call")


def well_formed(kwargs: Mapping[str, Any], report: Any) -> str | None:
    """Contract invariants that need no expected value."""
    if type(report) is not dict or set(report) != _REPORT_KEYS:
        return f"malformed driver report {report!r:.120}"
    max_steps = kwargs.get("max_steps", 8) if kwargs.get("style") != "default" else 8
    calls = report["llm_calls"]
    if calls > max(max_steps, 0):
        return f"llm called {calls} times with max_steps={max_steps}"
    if report["outcome"] != "returned":
        return None
    result = report["result"]
    if type(result) is not dict:
        return f"run_agent returned {checks.type_name(result)}, not a dict"
    if set(result) != {"answer", "steps", "messages"}:
        return f"result keys {sorted(map(str, result))}, expected answer/steps/messages"
    steps, messages = result["steps"], result["messages"]
    if type(steps) is not int:
        return f"steps is {checks.type_name(steps)}, not int"
    if steps != calls:
        return f"steps={steps} but the llm was called {calls} times"
    if type(messages) is not list or not messages:
        return f"messages is {checks.type_name(messages)} {messages!r:.80}, expected a non-empty list"
    for i, message in enumerate(messages):
        if type(message) is not dict or set(message) != {"role", "content"}:
            return f"message {i} is {message!r:.80}, expected a role/content dict"
        if type(message["role"]) is not str:
            return f"message {i} role is {checks.type_name(message['role'])}"
    roles = [m["role"] for m in messages]
    want = ["user"] + ["assistant", "tool"] * steps
    if len(messages) == 2 * steps:
        want = want[:-1]
    elif len(messages) != 2 * steps + 1:
        return f"{len(messages)} messages after {steps} llm calls"
    elif steps != max_steps or result["answer"] is not None:
        return f"no final reply among {steps} calls but answer={result['answer']!r:.60}, steps={steps}"
    if roles != want:
        return f"roles {roles[:8]}..., expected {want[:8]}..."
    for i, snapshot in enumerate(report["seen"]):
        if kwargs.get("record") == "lengths":
            if snapshot != 2 * i + 1:
                return f"llm call {i + 1} saw {snapshot!r} messages, expected {2 * i + 1}"
            continue
        reason = same(snapshot, messages[: 2 * i + 1], f"messages at llm call {i + 1}")
        if reason:
            return reason
    return None


def _judge(kwargs: Mapping[str, Any], value: Any, expected: Any) -> str | None:
    return well_formed(kwargs, value) or compare_reports(value, expected)


def expect(kwargs: Mapping[str, Any]) -> checks.Check:
    """A check: the observation is the contract's report for ``kwargs``."""

    def check(obs: Observation) -> str | None:
        if obs.raised:
            return f"the driver {obs.describe()}"
        return _judge(kwargs, obs.value, expected_report(kwargs))

    return check


def expect_repeat(scenarios: list[Mapping[str, Any]]) -> checks.Check:
    def check(obs: Observation) -> str | None:
        if obs.raised:
            return f"the driver {obs.describe()}"
        if type(obs.value) is not list or len(obs.value) != len(scenarios):
            return f"malformed driver output {obs.value!r:.80}"
        for i, (kwargs, value) in enumerate(zip(scenarios, obs.value)):
            reason = _judge(kwargs, value, expected_report(kwargs))
            if reason:
                return f"run {i + 1}: {reason}"
        return None

    return check


def against_reference(kwargs: Mapping[str, Any]) -> checks.Compare:
    def compare(cand: Observation, ref: Observation) -> str | None:
        if ref.raised:  # pragma: no cover - the reference driver does not raise
            return checks.same_as_reference(cand, ref)
        if cand.raised:
            return f"the driver {cand.describe()}"
        return _judge(kwargs, cand.value, ref.value)

    return compare


def against_reference_repeat(scenarios: list[Mapping[str, Any]]) -> checks.Compare:
    def compare(cand: Observation, ref: Observation) -> str | None:
        if cand.raised:
            return f"the driver {cand.describe()}"
        if type(cand.value) is not list or len(cand.value) != len(scenarios):
            return f"malformed driver output {cand.value!r:.80}"
        for i, (kwargs, value, want) in enumerate(zip(scenarios, cand.value, ref.value)):
            reason = _judge(kwargs, value, want)
            if reason:
                return f"run {i + 1}: {reason}"
        return None

    return compare


# ---- the case catalog ------------------------------------------------------------------


def T(name: Any, **args: Any) -> str:
    """A tool-call reply."""
    return json.dumps({"tool": name, "args": args})


def F(answer: Any) -> str:
    """A final-answer reply."""
    return json.dumps({"final": answer})


def scenario(replies: list[str], **kwargs: Any) -> dict[str, Any]:
    return {"replies": list(replies), **kwargs}


def case(replies: list[str], **kwargs: Any) -> Case:
    kw = scenario(replies, **kwargs)
    return Case(Call("agent", kw), expect(kw))


def repeat_case(scenarios: list[dict[str, Any]]) -> Case:
    return Case(Call("agent_repeat", {"scenarios": scenarios}), expect_repeat(scenarios))


def diff(replies: list[str], **kwargs: Any) -> DifferentialCase:
    kw = scenario(replies, **kwargs)
    return DifferentialCase(Call("agent", kw), against_reference(kw))


ALL_TOOLS = list(harness.TOOLS)
REPEAT = [
    scenario([T("add", a=1, b=2), F("three")], task="first"),
    scenario([F(1)], task="second"),
    scenario([T("echo", text="x")], cycle=True, max_steps=2, task="third"),
]

INVARIANTS = (
    case([F(42)]),
    case([T("add", a=2, b=3), F("five")]),
    case([T("echo", text="hi"), F([1, "a", None])], style="pos"),
    case([T("nope", x=1), F(1)], tools=["add"]),
    case([T("add", a=1, b=2)], cycle=True, max_steps=3),
    case([T("sub", b=10, a=3), F(True)], tools=["sub"], style="allkw"),
    repeat_case(REPEAT),
)

GARBAGE = [
    "I think the answer is 4.",
    'Sure! {"final": 1}',
    '{"final": 1} and more',
    "",
    "{",
    "[1, 2]",
    "3",
    "null",
    "true",
    '"final"',
    '["final"]',
    "{}",
    "NaN",
    '{"tool": null, "args": {}}',
    '{"tool": ["add"], "args": {}}',
    '{"tool": {"name": "add"}, "args": {}}',
    '{"tool": 7, "args": {}}',
    '{"tool": "add", "args": [1, 2]}',
    '{"tool": "add", "args": "a=1, b=2"}',
    '{"tool": "add", "args": null}',
    '{"tool": "add"}',
    '{"args": {"a": 1, "b": 2}}',
]

DIFFERENTIAL = (
    diff([F(42)]),
    diff([F(None)]),
    diff([F(0)]),
    diff([F(False)]),
    diff([F("")]),
    diff([F({"a": [1, 2.5, None]})]),
    diff(['  {"final": 7}\n']),
    diff([T("add", a=2, b=3), F(5)]),
    diff([T("sub", b=10, a=3), F(-7)], tools=["sub"]),
    diff([T("echo", text="hello world"), F("ok")]),
    diff([T("obj"), T("nothing"), T("pair", a=1), F(0)], tools=["obj", "nothing", "pair"]),
    diff([T("strict", x=2), T("strict", x="2"), T("strict", y=1), F(1)], tools=["strict"]),
    diff([T("fail", kind="RuntimeError"), T("fail", kind="ValueError"), F(1)], tools=["fail", "add"]),
    diff(
        [T("fail", kind="KeyError"), T("fail", kind="ToolCrash"), T("add", a=1, b=1), F(2)],
        tools=["fail", "add"],
    ),
    diff([T("nope"), T("add", a=1), T("add", a=1, b=2, c=3), F(1)]),
    diff([*GARBAGE[:11], F("after garbage")], max_steps=20),
    diff([*GARBAGE[11:], F("after shapes")], max_steps=20),
    diff([T("add", a=1, b=2)], cycle=True, max_steps=1),
    diff([T("add", a=1, b=2)], cycle=True, max_steps=5),
    diff(["not json"], cycle=True, max_steps=4),
    diff([T("echo", text="x")], cycle=True, style="default"),
    diff([T("echo", text=str(i)) for i in range(7)] + [F("eighth")], style="default"),
    diff([T("add", a=1, b=2), F(3)], max_steps=2, style="pos"),
    diff([F(1)], max_steps=0),
    diff([F(1)], max_steps=-3),
    diff([F(1)], raise_at=0),
    diff([T("add", a=1, b=2), "garbage"], raise_at=2, max_steps=5),
    diff([T("add", a=1, b=2), F(1)], tools=[]),
    diff([F("done")], task=""),
    diff([T("echo", text="ünïcødé ✓"), F("ünïcødé")], task="tâche ✓"),
    diff([F(1.5)]),
    diff([F(1e300)]),
    DifferentialCase(Call("agent_repeat", {"scenarios": REPEAT}), against_reference_repeat(REPEAT)),
)

# ---- properties -----------------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_answers = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(-1e6, 1e6, allow_nan=False),
    _text,
    st.lists(st.integers(0, 9), max_size=3),
)
_small = st.integers(-50, 50)
_replies = st.one_of(
    _answers.map(F),
    st.builds(lambda a, b: T("add", a=a, b=b), _small, _small),
    st.builds(lambda a, b: json.dumps({"tool": "sub", "args": {"b": b, "a": a}}), _small, _small),
    _text.map(lambda t: T("echo", text=t)),
    st.sampled_from(sorted(harness.EXCEPTIONS)).map(lambda k: T("fail", kind=k)),
    st.sampled_from(
        [T("strict", x=3), T("strict", x="3"), T("strict", z=3), T("nope"), T("obj"), T("nothing")]
    ),
    _answers.map(lambda a: f"  {F(a)}\n"),
    st.sampled_from(GARBAGE),
    _text,
)

_script = st.fixed_dictionaries(
    {
        "replies": st.lists(_replies, max_size=10),
        "max_steps": st.integers(1, 9),
        "cycle": st.booleans(),
        "tools": st.just(["add", "sub", "echo", "fail", "strict", "obj", "nothing"]),
        "task": _text,
        "style": st.sampled_from(["kw", "pos", "allkw", "default"]),
    }
)

_failing = st.fixed_dictionaries(
    {
        "replies": st.lists(_replies.filter(lambda r: '"final"' not in r), max_size=6),
        "max_steps": st.integers(1, 9),
        "raise_at": st.integers(0, 8),
        "tools": st.just(["add", "sub", "echo", "fail", "strict", "obj"]),
    }
)


def _property(kwargs: Mapping[str, Any], obs: Observation) -> str | None:
    return expect(kwargs)(obs)


PROPERTIES = (
    PropertySpec("scripted conversations follow the contract", "agent", _script, _property, max_examples=25),
    PropertySpec(
        "llm exceptions propagate, tool failures do not", "agent", _failing, _property, max_examples=15
    ),
)

# ---- fuzz (layer 4) ---------------------------------------------------------------------------

FUZZ = (
    case([F(1)], max_steps=0),
    case([F(1)], max_steps=-1),
    case([F(1)], max_steps=-100, style="pos"),
    case([F(1)], raise_at=0),
    case([T("add", a=1, b=2), "junk", T("nope")], raise_at=3, max_steps=8),
    *(case([g, F("next")], max_steps=3) for g in GARBAGE),
    case([T("add", a="x", b=1), T("add", a=[1], b={"k": 1}), F(0)]),
    case([F(None)]),
    case([F(0)]),
    case([F(False)]),
    case([F([])]),
    case([T("add", a=1, b=2), F(1)], tools=[]),
    case([T("echo", text="")], cycle=True, max_steps=2, task=""),
    case(["\n", "\t{\"final\": 3}  "]),
    case([T("nothing"), T("echo", text=""), F(None)], tools=["nothing", "echo"]),
    # a tool whose name is the empty string is a tool like any other: its result is appended.
    case([T(""), T("add", a=1, b=2), F("blank")], tools=["", "add"]),
    case(["junk"], cycle=True, style="default"),
    case([T("fail", kind=k) for k in ("TypeError", "KeyError", "AttributeError", "StopIteration")] + [F(1)],
         tools=["fail"]),
)

# ---- edge (layer 7) ----------------------------------------------------------------------------

_DEEP = "[" * 60 + "]" * 60

EDGE = (
    case([T("add", a=1, b=2)], cycle=True, max_steps=200, record="lengths"),
    case(["no json here"], cycle=True, max_steps=200, record="lengths"),
    case([T("fail", kind=k) for k in sorted(harness.EXCEPTIONS)] + [F("survived")],
         tools=["fail"], max_steps=len(harness.EXCEPTIONS) + 1),
    case([T("add", a=i, b=i) for i in range(199)] + [F("last")], max_steps=200, record="lengths"),
    case([T("slow")], cycle=True, max_steps=60, tools=["slow"], record="lengths"),
    case([T("add", a=1, b=2)], cycle=True, max_steps=150, raise_at=120, record="lengths"),
    case(["x" * 1_000_000, "{" * 100_000, F("fine")]),
    case([F("y" * 200_000)]),
    case([T("big", n=1_000_000), F("big")], tools=["big"]),
    case([_DEEP, json.dumps({"tool": {"tool": {"tool": "add"}}, "args": {"args": {}}}), F(0)]),
    case([F({"a": {"b": {"c": {"d": [[[[1]]]]}}}})]),
    case([F(1)], max_steps=10**9),
    case([T("add", a=1, b=2)], max_steps=1),
    case([T("echo", text="\x00\n\t\"' ✓ 𝔸"), F("\x00")], task="\x00"),
    case([F(-(2**62)), F(1)]),
    case([T("add", a=10**30, b=1), T("add", a=0.1, b=0.2), F(1e-300)]),
)
