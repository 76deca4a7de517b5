"""Drivers for agentic/tool_loop: run the candidate's ``run_agent`` against a scripted llm
and named tools, and return raw, plain data (no judgement).

Everything the candidate hands back is copied by :func:`plain`, which only descends into
values of an *exact* builtin type, so a hostile object is passed through untouched (the wire
then reports it as foreign). Long strings are replaced by a digest to keep transfers small.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import time
from typing import Any

FILLER = '{"tool": "echo", "args": {"text": "filler"}}'
LONG = 512  # strings longer than this travel as a digest
MAX_DEPTH = 40


class LLMDown(RuntimeError):
    """What the scripted llm raises when the scenario says so."""


class ToolCrash(Exception):
    """A tool's own exception class (not a builtin)."""


def _json_error() -> Exception:
    return json.JSONDecodeError("tool could not parse", "doc", 0)


EXCEPTIONS: dict[str, Any] = {
    "ValueError": ValueError,
    "TypeError": TypeError,
    "KeyError": KeyError,
    "IndexError": IndexError,
    "AttributeError": AttributeError,
    "ZeroDivisionError": ZeroDivisionError,
    "ArithmeticError": ArithmeticError,
    "OverflowError": OverflowError,
    "RuntimeError": RuntimeError,
    "NotImplementedError": NotImplementedError,
    "RecursionError": RecursionError,
    "AssertionError": AssertionError,
    "LookupError": LookupError,
    "OSError": OSError,
    "FileNotFoundError": FileNotFoundError,
    "ConnectionError": ConnectionError,
    "TimeoutError": TimeoutError,
    "PermissionError": PermissionError,
    "UnicodeError": UnicodeError,
    "StopIteration": StopIteration,
    "StopAsyncIteration": StopAsyncIteration,
    "MemoryError": MemoryError,
    "ImportError": ImportError,
    "NameError": NameError,
    "EOFError": EOFError,
    "BufferError": BufferError,
    "Exception": Exception,
    "ToolCrash": ToolCrash,
    "JSONDecodeError": _json_error,
}


# ---- the named tools -------------------------------------------------------------------


def _add(a, b):
    return a + b


def _sub(a, b):
    return a - b


def _echo(text):
    return text


def _fail(kind="RuntimeError"):
    raise EXCEPTIONS[kind](f"tool failed with {kind}")


def _strict(*, x):
    if type(x) is not int:
        raise TypeError("x must be an int")
    return x * 2


def _big(n):
    return "x" * n


def _slow():
    time.sleep(0.002)
    return "slow done"


def _nothing():
    return None


def _obj():
    return {"k": [1, 2], "s": "v"}


def _pair(a, b=10):
    return [a, b]


def _blank():
    return "blank tool ran"


TOOLS: dict[str, Any] = {
    "add": _add,
    "sub": _sub,
    "echo": _echo,
    "fail": _fail,
    "strict": _strict,
    "big": _big,
    "slow": _slow,
    "nothing": _nothing,
    "obj": _obj,
    "pair": _pair,
    "": _blank,  # an empty name is still a key of ``tools``
}


def _digest(text: str) -> dict[str, Any]:
    data = text.encode("utf-8", "surrogatepass")
    return {"long_str": len(text), "sha256": hashlib.sha256(data).hexdigest(), "head": text[:64]}


def plain(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` through exact builtin containers; anything else is left as is."""
    t = type(value)
    if depth > MAX_DEPTH:
        return value
    if t is list:
        return [plain(v, depth + 1) for v in value]
    if t is dict:
        return {k: plain(v, depth + 1) for k, v in dict.items(value)}
    if t is str and len(value) > LONG:
        return _digest(value)
    return value


def toolbox(names: list[str], log: list[Any]) -> dict[str, Any]:
    """Fresh tool callables by name; each call whose arguments bind is logged."""
    box: dict[str, Any] = {}
    for name in names:
        fn = TOOLS[name]
        sig = inspect.signature(fn)

        def make(name: str = name, fn: Any = fn, sig: inspect.Signature = sig) -> Any:
            @functools.wraps(fn)
            def tool(*args: Any, **kwargs: Any) -> Any:
                sig.bind(*args, **kwargs)  # the TypeError a direct call would raise
                log.append({"tool": name, "args": plain(list(args)), "kwargs": plain(dict(kwargs))})
                return fn(*args, **kwargs)

            return tool

        box[name] = make()
    return box


class ScriptedLLM:
    """Returns ``replies`` in order (then FILLER, or cycles); records what it was shown."""

    def __init__(self, replies: list[str], cycle: bool, raise_at: int | None, record: str) -> None:
        self.replies = list(replies)
        self.cycle = cycle
        self.raise_at = raise_at
        self.record = record
        self.seen: list[Any] = []
        self.raised: BaseException | None = None

    def __call__(self, messages: Any) -> str:
        index = len(self.seen)
        if self.record == "lengths":
            self.seen.append(len(messages) if type(messages) is list else f"<{type(messages).__name__}>")
        else:
            self.seen.append(plain(messages))
        if self.raise_at is not None and index >= self.raise_at:
            self.raised = LLMDown(f"llm unavailable at call {index + 1}")
            raise self.raised
        if index < len(self.replies):
            return self.replies[index]
        if self.cycle and self.replies:
            return self.replies[index % len(self.replies)]
        return FILLER


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def run_once(
    run_agent: Any,
    replies: list[str] | None = None,
    cycle: bool = False,
    raise_at: int | None = None,
    tools: list[str] | None = None,
    task: str = "compute",
    max_steps: int = 8,
    style: str = "kw",
    record: str = "full",
) -> dict[str, Any]:
    """One ``run_agent`` call; a report of plain data."""
    log: list[Any] = []
    names = list(tools) if tools is not None else ["add", "echo"]
    box = toolbox(names, log)
    originals = dict(box)
    llm = ScriptedLLM(replies or [], cycle, raise_at, record)
    report: dict[str, Any] = {"outcome": "returned", "result": None, "error": None, "llm_error_same": None}
    try:
        if style == "pos":
            result = run_agent(llm, box, task, max_steps)
        elif style == "default":
            result = run_agent(llm, box, task)
        elif style == "allkw":
            result = run_agent(llm=llm, tools=box, task=task, max_steps=max_steps)
        else:
            result = run_agent(llm, box, task, max_steps=max_steps)
    except LLMDown as exc:
        report["outcome"] = "llm_error"
        report["llm_error_same"] = exc is llm.raised
    except Exception as exc:
        report["outcome"] = "raised"
        report["error"] = [_qualified(c) for c in type(exc).__mro__]
    else:
        report["result"] = plain(result)
    report["llm_calls"] = len(llm.seen)
    report["seen"] = llm.seen
    report["tool_log"] = log
    report["tools_after"] = [k for k in box] + (
        [] if all(box.get(k) is v for k, v in originals.items()) else ["<replaced>"]
    )
    return report


def agent(solution, **kwargs):
    """``run_agent`` on one scripted scenario (see :func:`run_once` for the kwargs)."""
    return run_once(solution.run_agent, **kwargs)


def agent_repeat(solution, scenarios: list):
    """Several scenarios run one after the other in the same process (shared-state bugs)."""
    return [run_once(solution.run_agent, **scenario) for scenario in scenarios]
