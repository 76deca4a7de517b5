"""Defect-injecting mutations of candidate modules (AST based).

Every operator is ``op(source, rng) -> Mutant | None`` (:data:`MUTATIONS`): one seeded edit
at one site, chosen among the module's applicable sites, recorded with its operator name and
a short detail; ``None`` when the operator has no site in the module. :data:`TREE_MUTATIONS`
holds the same operators on a parsed tree (edited in place), which the generator chains.
The edits model the bugs the gate's layers are meant to catch (off-by-one, weakened checks,
hard-coded flags, discarded state, swallowed errors, unguarded overflow, reordered
randomness, …).
"""

from __future__ import annotations

import ast
import functools
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

from dpo_assets.corpus.rewrites import (
    functions,
    has_docstring,
    identifiers,
    normalize,
    parse,
    render,
    split_scope,
    stmt_blocks,
    walk,
)


@dataclass(frozen=True)
class Mutant:
    """A mutated module and what was done to it."""

    code: str
    operator: str
    line: int | None
    detail: str


MutationOp = Callable[[str, random.Random], "Mutant | None"]
# A tree mutation edits the tree in place and returns (edited node, detail), or None
# (tree untouched) when it has no site.
_Edit = tuple[ast.AST, str]
TreeMutation = Callable[[ast.Module, random.Random], "_Edit | None"]
_Site = tuple[list[ast.stmt], int]

_FLIPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_SYMBOLS = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip
# Calls whose arguments commute: swapping them is not a defect.
_COMMUTATIVE = frozenset(
    {"min", "max", "hypot", "gcd", "lcm", "isclose", "allclose", "maximum", "minimum", "fmax", "fmin",
     "add", "mul", "print", "dist"}
)  # fmt: skip
_RANDOM_MODULES = frozenset({"random", "rng", "np.random", "numpy.random", "generator"})
_RNG_FACTORIES = frozenset({"Random", "SystemRandom", "default_rng", "RandomState", "Generator"})


def _all_blocks(tree: ast.Module) -> list[list[ast.stmt]]:
    return list(stmt_blocks(walk(tree)))


def _remove(block: list[ast.stmt], i: int, replacement: list[ast.stmt] | None = None) -> None:
    block[i : i + 1] = replacement or []
    if not block:
        block.append(ast.Pass())


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _callee(node: ast.Call) -> str:
    """Last component of a call's function name (``math.exp`` → ``exp``)."""
    return _dotted(node.func).rsplit(".", 1)[-1]


def _is_append(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr in ("append", "extend")
    )


def _number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _const_like(node: ast.AST) -> bool:
    return _number(node) or (isinstance(node, ast.UnaryOp) and _number(node.operand))


# ---------------------------------------------------------------------------- operators


def _flip_compare(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Flip one comparison operator (``<`` ↔ ``<=``, ``==`` ↔ ``!=``, ``in`` ↔ ``not in`` …)."""
    sites = [(n, i) for n in walk(tree) if isinstance(n, ast.Compare) for i in range(len(n.ops))]
    if not sites:
        return None
    node, i = rng.choice(sites)
    old = type(node.ops[i])
    node.ops[i] = _FLIPS[old]()
    return (node, f"{_SYMBOLS[old]} -> {_SYMBOLS[_FLIPS[old]]}")


def _shift(expr: ast.expr, rng: random.Random) -> ast.expr:
    """``expr`` off by one: ``n`` → ``n±1``, ``e + 1`` → ``e``, ``e`` → ``e ± 1``."""
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        delta = 1 if expr.value == 0 else rng.choice((-1, 1))
        return ast.Constant(expr.value + delta)
    if (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, ast.Add | ast.Sub)
        and isinstance(expr.right, ast.Constant)
        and expr.right.value == 1
    ):
        return expr.left
    return ast.BinOp(expr, rng.choice((ast.Add, ast.Sub))(), ast.Constant(1))


def _off_by_one_range(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Shift a ``range(...)`` bound by one."""
    sites = [
        (n, i)
        for n in walk(tree)
        if isinstance(n, ast.Call) and _dotted(n.func) == "range" and 1 <= len(n.args) <= 3
        for i in range(min(len(n.args), 2))
        if not isinstance(n.args[i], ast.Starred)
    ]
    if not sites:
        return None
    node, i = rng.choice(sites)
    node.args[i] = _shift(node.args[i], rng)
    return (node, f"range argument {i} shifted by one")


def _off_by_one_slice(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Shift a slice bound by one."""
    sites = [
        (n, field)
        for n in walk(tree)
        if isinstance(n, ast.Slice)
        for field in ("lower", "upper")
        if getattr(n, field) is not None
    ]
    if not sites:
        return None
    node, field = rng.choice(sites)
    setattr(node, field, _shift(getattr(node, field), rng))
    return (node, f"slice {field} bound shifted by one")


def _swap_call_args(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Swap two positional arguments of a (non-commutative) call."""
    sites = []
    for n in walk(tree):
        if not isinstance(n, ast.Call) or _callee(n) in _COMMUTATIVE:
            continue
        positional = [i for i, a in enumerate(n.args) if not isinstance(a, ast.Starred)]
        for a, b in itertools.pairwise(positional):
            if ast.dump(n.args[a]) != ast.dump(n.args[b]):
                sites.append((n, a, b))
    if not sites:
        return None
    node, a, b = rng.choice(sites)
    node.args[a], node.args[b] = node.args[b], node.args[a]
    return (node, f"swapped arguments {a} and {b} of {_dotted(node.func)}()")


def _delete_raise(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Delete a ``raise`` statement."""
    sites: list[_Site] = [
        (b, i) for b in _all_blocks(tree) for i, s in enumerate(b) if isinstance(s, ast.Raise)
    ]
    if not sites:
        return None
    block, i = rng.choice(sites)
    node = block[i]
    _remove(block, i)
    return (node, "raise statement removed")


def _delete_guard(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Delete a guard ``if <bad>: raise …`` (keeping its ``else`` branch, if any)."""
    sites: list[_Site] = [
        (b, i)
        for b in _all_blocks(tree)
        for i, s in enumerate(b)
        if isinstance(s, ast.If) and isinstance(s.body[-1], ast.Raise)
    ]
    if not sites:
        return None
    block, i = rng.choice(sites)
    node: ast.If = block[i]  # type: ignore[assignment]
    _remove(block, i, node.orelse)
    return (node, f"guard `if {ast.unparse(node.test)}: raise` removed")


def _return_constant(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Replace a returned value (or one element of a returned tuple) by a constant."""
    sites = [
        n
        for n in walk(tree)
        if isinstance(n, ast.Return) and n.value is not None and not (_number(n.value) or _is_none(n.value))
    ]
    if not sites:
        return None
    node = rng.choice(sites)
    value = node.value
    flags = [k for k, e in enumerate(value.elts) if not _is_true(e)] if isinstance(value, ast.Tuple) else []
    if flags and len(value.elts) >= 2 and rng.random() < 0.5:  # type: ignore[union-attr]
        k = rng.choice(flags)
        value.elts[k] = ast.Constant(True)  # type: ignore[union-attr]
        return (node, f"tuple element {k} hard-coded to True")
    old = ast.dump(value)  # type: ignore[arg-type]
    constants = (ast.Constant(True), ast.Constant(0), ast.List([], ast.Load()))
    options = [c for c in constants if ast.dump(c) != old]
    node.value = rng.choice(options)
    return (node, f"return value replaced by {ast.unparse(node.value)}")


def _is_true(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _drop_conditional_append(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Delete an ``x.append(...)`` that sits under an ``if``."""
    sites: list[_Site] = [
        (block, i)
        for n in walk(tree)
        if isinstance(n, ast.If)
        for block in (n.body, n.orelse)
        for i, s in enumerate(block)
        if _is_append(s)
    ]
    if not sites:
        return None
    block, i = rng.choice(sites)
    node = block[i]
    _remove(block, i)
    return (node, "conditional append removed")


def _append_only_if_accepted(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Move a loop's unconditional ``x.append(...)`` under ``if <flag>:`` (e.g. ``accepted``)."""
    sites: list[tuple[list[ast.stmt], int, str]] = []
    for loop in walk(tree):
        if not isinstance(loop, ast.For | ast.While | ast.AsyncFor):
            continue
        body = loop.body
        for i, stmt in enumerate(body):
            if not _is_append(stmt):
                continue
            bound = [
                t.id
                for s in body[:i]
                if isinstance(s, ast.Assign)
                for target in s.targets
                for t in walk(target)
                if isinstance(t, ast.Name) and t.id != "_"
            ]
            preferred = [b for b in bound if "accept" in b.lower()]
            if preferred or bound:
                sites.append((body, i, rng.choice(preferred or bound)))
    if not sites:
        return None
    block, i, flag = rng.choice(sites)
    node = block[i]
    block[i] = ast.If(ast.Name(flag, ast.Load()), [node], [])
    return (node, f"append moved under `if {flag}:`")


def _unguarded_exp(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Remove an overflow guard around ``exp``: ``exp(min(0, d))`` → ``exp(d)``, or delete an
    early ``if d … : return`` that protects a later ``exp(d)``."""
    calls = [n for n in walk(tree) if isinstance(n, ast.Call) and _callee(n) == "exp" and len(n.args) == 1]
    clamp_sites = [
        c
        for c in calls
        if isinstance(c.args[0], ast.Call)
        and _callee(c.args[0]) in ("min", "max")
        and len(c.args[0].args) == 2
        and any(_const_like(a) for a in c.args[0].args)
    ]
    guard_sites: list[_Site] = []
    for block in _all_blocks(tree):
        for i, stmt in enumerate(block):
            if not (isinstance(stmt, ast.If) and not stmt.orelse and isinstance(stmt.body[-1], ast.Return)):
                continue
            test = stmt.test
            if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
                continue
            sides = [test.left, test.comparators[0]]
            if not any(_const_like(x) for x in sides):
                continue
            tested = {x.id for x in sides if isinstance(x, ast.Name)}
            later_exp_args = {
                n.id
                for s in block[i + 1 :]
                for c in walk(s)
                if isinstance(c, ast.Call) and _callee(c) == "exp"
                for a in c.args
                for n in walk(a)
                if isinstance(n, ast.Name)
            }
            if tested & later_exp_args:
                guard_sites.append((block, i))
    options: list[tuple[str, object]] = [("clamp", c) for c in clamp_sites] + [
        ("guard", g) for g in guard_sites
    ]
    if not options:
        return None
    kind, site = rng.choice(options)
    if kind == "clamp":
        call: ast.Call = site  # type: ignore[assignment]
        inner: ast.Call = call.args[0]  # type: ignore[assignment]
        keep = [a for a in inner.args if not _const_like(a)] or [inner.args[1]]
        call.args[0] = keep[0]
        return (call, "exp() clamp removed")
    block, i = site  # type: ignore[misc]
    node = block[i]
    _remove(block, i)
    return (node, "early-return guard before exp() removed")


def _remove_import(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Remove a top-level import whose name the module uses."""
    loaded = {n.id for n in walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    sites = [
        (i, alias)
        for i, stmt in enumerate(tree.body)
        if isinstance(stmt, ast.Import | ast.ImportFrom)
        and not (isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__")
        for alias in stmt.names
        if (alias.asname or alias.name).split(".")[0] in loaded
    ]
    if not sites:
        return None
    i, alias = rng.choice(sites)
    stmt = tree.body[i]
    stmt.names.remove(alias)  # type: ignore[attr-defined]
    if not stmt.names:  # type: ignore[attr-defined]
        _remove(tree.body, i)
    return (stmt, f"import of {alias.name} removed")


def _assert_to_pass(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Turn an ``assert`` into ``pass``."""
    sites: list[_Site] = [
        (b, i) for b in _all_blocks(tree) for i, s in enumerate(b) if isinstance(s, ast.Assert)
    ]
    if not sites:
        return None
    block, i = rng.choice(sites)
    node = block[i]
    block[i] = ast.copy_location(ast.Pass(), node)
    return (node, "assert replaced by pass")


def _swallow_exceptions(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Wrap a function's body in ``try: … except Exception: pass``."""
    sites = []
    for func in functions(tree):
        start = 1 if has_docstring(func) else 0
        rest = func.body[start:]
        if not rest or (len(rest) == 1 and isinstance(rest[0], ast.Try | ast.Pass)):
            continue
        sites.append(func)
    if not sites:
        return None
    func = rng.choice(sites)
    start = 1 if has_docstring(func) else 0
    handler = ast.ExceptHandler(ast.Name("Exception", ast.Load()), None, [ast.Pass()])
    func.body[start:] = [ast.Try(func.body[start:], [handler], [], [])]
    return (func, f"body of {func.name}() wrapped in try/except: pass")


def _change_constant(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Change a numeric literal (``0`` → ``1``, ``n`` → ``n±1``/``2n``, ``x`` → ``10x``/``x/10`` …)."""
    annotations = {
        id(n)
        for f in functions(tree)
        for a in [*f.args.posonlyargs, *f.args.args, *f.args.kwonlyargs]
        if a.annotation is not None
        for n in walk(a.annotation)
    }
    sites = [n for n in walk(tree) if _number(n) and id(n) not in annotations]
    if not sites:
        return None
    node: ast.Constant = rng.choice(sites)
    old = node.value
    if isinstance(old, int):
        options: list[float] = [old + 1, old - 1, old * 2, 0 if old else 1]
    else:
        options = [old * 10, old / 10, old + 1.0, -old, 0.0 if old else 1.0]
    options = [o for o in options if o != old]
    node.value = rng.choice(options)
    return (node, f"{old!r} -> {node.value!r}")


def _discard_result(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """``state = step(...)`` → ``_ = step(...)`` where ``state`` is read later."""
    sites = []
    for func in functions(tree):
        own, nested = split_scope(func)
        loads = {n.id for n in own if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        for n in nested:
            loads |= identifiers(n)
        for stmt in own:
            if not (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.value, ast.Call | ast.Await)
            ):
                continue
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                names = [target.id]
            elif isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
                names = [e.id for e in target.elts]  # type: ignore[attr-defined]
            else:
                continue
            if "_" in names:
                continue
            if set(names) & loads:
                sites.append(stmt)
    if not sites:
        return None
    stmt = rng.choice(sites)
    old = ast.unparse(stmt.targets[0])
    stmt.targets = [ast.Name("_", ast.Store())]
    return (stmt, f"result bound to {old} discarded")


def _random_consumers(tree: ast.Module) -> set[str]:
    """Module functions that consume randomness, directly or through each other."""
    from_random = {
        (a.asname or a.name)
        for n in walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module in ("random", "numpy.random")
        for a in n.names
    }
    # generator objects: ``_rng = random.Random(...)``, ``gen = np.random.default_rng(...)``
    from_random |= {
        t.id
        for n in walk(tree)
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and _callee(n.value) in _RNG_FACTORIES
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    defs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)}
    consumers: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, func in defs.items():
            if name not in consumers and _consumes(func, from_random | consumers):
                consumers.add(name)
                changed = True
    return consumers | from_random


def _consumes(node: ast.AST, names: set[str]) -> bool:
    for n in walk(node):
        if isinstance(n, ast.Call):
            dotted = _dotted(n.func)
            owner = dotted.rsplit(".", 1)[0]
            if dotted in names or owner in _RANDOM_MODULES or owner in names:
                return True
    return False


def _swap_random_order(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Swap two statements of one block that both consume randomness."""
    consumers = _random_consumers(tree)
    simple = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)
    sites: list[tuple[list[ast.stmt], int, int]] = []
    for block in _all_blocks(tree):
        idx = [i for i, s in enumerate(block) if isinstance(s, simple) and _consumes(s, consumers)]
        sites += [
            (block, a, b) for a, b in itertools.pairwise(idx) if ast.dump(block[a]) != ast.dump(block[b])
        ]
    if not sites:
        return None
    block, a, b = rng.choice(sites)
    block[a], block[b] = block[b], block[a]
    return (block[b], "two randomness-consuming statements swapped")


def _drop_await(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """Drop one ``await`` (the coroutine is created but never run)."""
    sites = [n for n in walk(tree) if isinstance(n, ast.Await)]
    if not sites:
        return None
    chosen = rng.choice(sites)

    class _Drop(ast.NodeTransformer):
        def visit_Await(self, node: ast.Await) -> ast.AST:
            self.generic_visit(node)
            return node.value if node is chosen else node

    _Drop().visit(tree)
    return (chosen, f"await dropped before {ast.unparse(chosen.value)}")


def _blocking_sleep(tree: ast.Module, rng: random.Random) -> _Edit | None:
    """``await asyncio.sleep(d)`` → ``time.sleep(d)`` (blocks the event loop)."""
    sites = [
        n
        for n in walk(tree)
        if isinstance(n, ast.Await)
        and isinstance(n.value, ast.Call)
        and _dotted(n.value.func) in ("asyncio.sleep", "sleep")
    ]
    time_imported = any(
        isinstance(n, ast.Import) and any(a.name == "time" and a.asname is None for a in n.names)
        for n in tree.body
    )
    if not sites or ("time" in identifiers(tree) and not time_imported):
        return None
    chosen = rng.choice(sites)
    call: ast.Call = chosen.value  # type: ignore[assignment]

    class _Block(ast.NodeTransformer):
        def visit_Await(self, node: ast.Await) -> ast.AST:
            self.generic_visit(node)
            if node is not chosen:
                return node
            return ast.Call(
                ast.Attribute(ast.Name("time", ast.Load()), "sleep", ast.Load()), call.args, call.keywords
            )

    _Block().visit(tree)
    if not time_imported:
        at = 1 if has_docstring(tree) else 0
        while (
            at < len(tree.body)
            and isinstance(tree.body[at], ast.ImportFrom)
            and tree.body[at].module == "__future__"
        ):
            at += 1
        tree.body.insert(at, ast.Import([ast.alias("time")]))
    return (chosen, "asyncio.sleep awaited -> time.sleep blocking")


def _on_source(name: str, fn: TreeMutation) -> MutationOp:
    """The source-level form of a tree mutation: parse, mutate, unparse into a :class:`Mutant`."""

    @functools.wraps(fn)
    def op(source: str, rng: random.Random) -> Mutant | None:
        tree = parse(source)
        if tree is None:
            return None
        edit = fn(tree, rng)
        if edit is None:
            return None
        code = render(tree)
        if code.strip() == (normalize(source) or "").strip():
            return None
        node, detail = edit
        return Mutant(code, name, getattr(node, "lineno", None), detail)

    op.__name__ = name
    return op


TREE_MUTATIONS: dict[str, TreeMutation] = {
    "flip_compare": _flip_compare,
    "off_by_one_range": _off_by_one_range,
    "off_by_one_slice": _off_by_one_slice,
    "swap_call_args": _swap_call_args,
    "delete_raise": _delete_raise,
    "delete_guard": _delete_guard,
    "return_constant": _return_constant,
    "drop_conditional_append": _drop_conditional_append,
    "append_only_if_accepted": _append_only_if_accepted,
    "unguarded_exp": _unguarded_exp,
    "remove_import": _remove_import,
    "assert_to_pass": _assert_to_pass,
    "swallow_exceptions": _swallow_exceptions,
    "change_constant": _change_constant,
    "discard_result": _discard_result,
    "swap_random_order": _swap_random_order,
    "drop_await": _drop_await,
    "blocking_sleep": _blocking_sleep,
}

flip_compare = _on_source("flip_compare", _flip_compare)
off_by_one_range = _on_source("off_by_one_range", _off_by_one_range)
off_by_one_slice = _on_source("off_by_one_slice", _off_by_one_slice)
swap_call_args = _on_source("swap_call_args", _swap_call_args)
delete_raise = _on_source("delete_raise", _delete_raise)
delete_guard = _on_source("delete_guard", _delete_guard)
return_constant = _on_source("return_constant", _return_constant)
drop_conditional_append = _on_source("drop_conditional_append", _drop_conditional_append)
append_only_if_accepted = _on_source("append_only_if_accepted", _append_only_if_accepted)
unguarded_exp = _on_source("unguarded_exp", _unguarded_exp)
remove_import = _on_source("remove_import", _remove_import)
assert_to_pass = _on_source("assert_to_pass", _assert_to_pass)
swallow_exceptions = _on_source("swallow_exceptions", _swallow_exceptions)
change_constant = _on_source("change_constant", _change_constant)
discard_result = _on_source("discard_result", _discard_result)
swap_random_order = _on_source("swap_random_order", _swap_random_order)
drop_await = _on_source("drop_await", _drop_await)
blocking_sleep = _on_source("blocking_sleep", _blocking_sleep)

MUTATIONS: dict[str, MutationOp] = {
    "flip_compare": flip_compare,
    "off_by_one_range": off_by_one_range,
    "off_by_one_slice": off_by_one_slice,
    "swap_call_args": swap_call_args,
    "delete_raise": delete_raise,
    "delete_guard": delete_guard,
    "return_constant": return_constant,
    "drop_conditional_append": drop_conditional_append,
    "append_only_if_accepted": append_only_if_accepted,
    "unguarded_exp": unguarded_exp,
    "remove_import": remove_import,
    "assert_to_pass": assert_to_pass,
    "swallow_exceptions": swallow_exceptions,
    "change_constant": change_constant,
    "discard_result": discard_result,
    "swap_random_order": swap_random_order,
    "drop_await": drop_await,
    "blocking_sleep": blocking_sleep,
}
