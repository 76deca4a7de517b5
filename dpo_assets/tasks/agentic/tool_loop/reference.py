"""Reference implementation of agentic/tool_loop."""

import json


def _tool_message(tools: dict, request) -> str:
    """The content of the ``tool`` message answering one parsed reply."""
    if not isinstance(request, dict) or "tool" not in request or "args" not in request:
        return 'error: expected {"final": answer} or {"tool": name, "args": {...}}'
    name, args = request["tool"], request["args"]
    if not isinstance(name, str) or name not in tools:
        return f"error: unknown tool {name!r}"
    if not isinstance(args, dict):
        return "error: args must be a JSON object"
    try:
        return str(tools[name](**args))
    except Exception as exc:
        return f"error: tool {name!r} failed: {type(exc).__name__}: {exc}"


def run_agent(llm, tools: dict, task: str, max_steps: int = 8) -> dict:
    """Run a minimal tool-calling loop; see the task contract."""
    if max_steps < 1:
        raise ValueError("max_steps must be at least 1")
    messages = [{"role": "user", "content": task}]
    for step in range(1, max_steps + 1):
        reply = llm(messages)
        messages.append({"role": "assistant", "content": reply})
        try:
            request = json.loads(reply)
        except (ValueError, TypeError, RecursionError) as exc:
            messages.append({"role": "tool", "content": f"error: reply is not JSON: {exc}"})
            continue
        if isinstance(request, dict) and "final" in request:
            return {"answer": request["final"], "steps": step, "messages": messages}
        messages.append({"role": "tool", "content": _tool_message(tools, request)})
    return {"answer": None, "steps": max_steps, "messages": messages}
