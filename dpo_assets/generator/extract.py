"""The Python module in a model's reply."""

from __future__ import annotations

import ast
import re

_FENCE = re.compile(r"```[ \t]*(?:python3?|py|Python)?[ \t]*\n(.*?)(?:```|\Z)", re.S)
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S)


def extract_code(reply: str) -> str | None:
    """The longest fenced block of ``reply`` (reasoning in ``<think>`` tags ignored); without a
    fence, the whole reply when it parses as Python defining something; else None (no code)."""
    text = _THINK.sub("", reply)
    blocks = [b.strip("\n") for b in _FENCE.findall(text)]
    code = max(blocks, key=len, default="")
    if not code.strip() and not blocks:
        code = text.strip("\n")
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            return None
        defines = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        if not any(isinstance(node, defines) for node in tree.body):
            return None
    return code + "\n" if code.strip() else None
