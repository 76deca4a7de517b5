"""Semantics-preserving rewrites of candidate modules (AST based).

Every operator is ``op(source, rng) -> str | None`` (:data:`REWRITES`): it returns the
rewritten module, or ``None`` when it does not apply. :data:`TREE_REWRITES` holds the same
operators on a parsed tree (edited in place, ``False`` when not applicable). Output is
``ast.unparse`` text, so comments and layout are normalised by every operator. Each rewrite
keeps the module's behaviour identical: public names and function signatures are never
renamed, and a rewrite whose safety cannot be established syntactically is not applied.
"""

from __future__ import annotations

import ast
import builtins
import functools
import keyword
import random
from collections.abc import Callable, Iterable, Iterator

RewriteOp = Callable[[str, random.Random], "str | None"]
TreeRewrite = Callable[[ast.Module, random.Random], bool]
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

_BUILTIN_NAMES = frozenset(dir(builtins))
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_DYNAMIC_SCOPE_CALLS = frozenset({"locals", "vars", "eval", "exec", "dir", "globals"})
_NAME_POOL = (
    "acc", "total", "result", "out", "buf", "tmp", "val", "item", "idx", "pos", "cur", "nxt",
    "count", "res", "chunk", "state", "value", "elem", "entry", "data", "seq", "vals",
    "running", "part", "piece", "node", "key", "k", "j", "m", "q", "w", "z",
)  # fmt: skip


# ---------------------------------------------------------------------------- helpers


def walk(node: ast.AST) -> list[ast.AST]:
    """Every node under ``node`` (itself included), breadth first like ``ast.walk``, but faster."""
    out: list[ast.AST] = [node]
    append = out.append
    i = 0
    while i < len(out):
        n = out[i]
        i += 1
        for name in n._fields:
            value = getattr(n, name, None)
            if type(value) is list:
                for x in value:
                    if isinstance(x, ast.AST):
                        append(x)
            elif isinstance(value, ast.AST):
                append(value)
    return out


def _children(node: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if type(value) is list:
            out.extend(x for x in value if isinstance(x, ast.AST))
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def parse(source: str) -> ast.Module | None:
    """The module's AST, or None when it does not parse."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


@functools.lru_cache(maxsize=4096)
def normalize(source: str) -> str | None:
    """Canonical text of a module (``ast.unparse``): comments and layout removed."""
    tree = parse(source)
    if tree is None:
        return None
    try:
        return ast.unparse(tree)
    except (RecursionError, ValueError):
        return None


def render(tree: ast.Module) -> str:
    """Source text of a (possibly edited) module (``ast.unparse`` plus a final newline)."""
    for node in walk(tree):
        # unparse reads ``lineno`` of statements (type comments); new ones have none
        if isinstance(node, ast.stmt) and "lineno" not in node.__dict__:
            node.lineno = 0
    return ast.unparse(tree) + "\n"


def functions(tree: ast.AST) -> list[FunctionNode]:
    """Every (async) function definition in ``tree``, outermost first."""
    return [n for n in walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def split_scope(func: FunctionNode) -> tuple[list[ast.AST], list[ast.AST]]:
    """Nodes of ``func``'s body that live in its own scope, and the nested scopes it holds."""
    own: list[ast.AST] = []
    nested: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(func.body))
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            nested.append(node)
            continue
        own.append(node)
        stack.extend(reversed(_children(node)))
    return own, nested


def identifiers(node: ast.AST) -> set[str]:
    """Every identifier spelled anywhere in ``node`` (names, args, attributes, aliases…)."""
    names: set[str] = set()
    for n in walk(node):
        if isinstance(n, ast.Name):
            names.add(n.id)
        elif isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, ast.Global | ast.Nonlocal):
            names.update(n.names)
        elif (isinstance(n, ast.ExceptHandler) and n.name) or isinstance(
            n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        ):
            names.add(n.name)
        elif isinstance(n, ast.alias):
            names.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, ast.MatchAs | ast.MatchStar) and n.name:
            names.add(n.name)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            names.add(n.rest)
        elif isinstance(n, ast.Attribute):
            names.add(n.attr)
    return names


def bound_names(tree: ast.AST) -> set[str]:
    """Names bound anywhere in ``tree`` (so builtins they shadow are not trusted)."""
    names: set[str] = set()
    for n in walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del):
            names.add(n.id)
        elif isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(n.name)
        elif isinstance(n, ast.alias):
            names.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
    return names


def param_names(func: FunctionNode) -> set[str]:
    """The parameter names of ``func`` (its contract: never renamed)."""
    a = func.args
    every = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
    return {x.arg for x in every if x is not None}


def declared_names(own: Iterable[ast.AST]) -> set[str]:
    """Names a scope declares ``global`` or ``nonlocal``."""
    names: set[str] = set()
    for n in own:
        if isinstance(n, ast.Global | ast.Nonlocal):
            names.update(n.names)
    return names


def has_docstring(node: ast.AST) -> bool:
    body = getattr(node, "body", None)
    return bool(
        isinstance(body, list)
        and body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )


def stmt_blocks(nodes: Iterable[ast.AST]) -> Iterator[list[ast.stmt]]:
    """The statement lists (``body``/``orelse``/``finalbody``) held by ``nodes``."""
    for n in nodes:
        for field in ("body", "orelse", "finalbody"):
            value = getattr(n, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                yield value


def fresh_name(base: str, rng: random.Random, taken: set[str]) -> str:
    """A new identifier near ``base`` that clashes with nothing in ``taken`` or builtins."""
    stem = base.strip("_") or "v"
    derived = [f"{stem}_", f"{stem}_val", f"new_{stem}", f"{stem}2", f"the_{stem}", f"{stem}_tmp"]
    derived = rng.sample(derived, len(derived))
    pool = rng.sample(_NAME_POOL, len(_NAME_POOL))
    options = pool + derived if rng.random() < 0.5 else derived + pool
    for option in options:
        if _usable(option, taken):
            return option
    i = 1
    while not _usable(f"{stem}_{i}", taken):
        i += 1
    return f"{stem}_{i}"


def _usable(name: str, taken: set[str]) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and name not in taken
        and name not in _BUILTIN_NAMES
    )


def _subset(items: list, rng: random.Random) -> list:
    """A random non-empty subset of ``items`` (in their order)."""
    if not items:
        return []
    chosen = [x for x in items if rng.random() < 0.5]
    return chosen or [rng.choice(items)]


def _numeric_const(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _is_call_to(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


# ---------------------------------------------------------------------------- rewrites


def _rename_locals(tree: ast.Module, rng: random.Random) -> bool:
    """Rename some local variables of functions (never parameters, globals or closures)."""
    taken = identifiers(tree)
    changed = False
    for func in functions(tree):
        own, nested = split_scope(func)
        if any(isinstance(n, ast.Match) for n in own) or any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _DYNAMIC_SCOPE_CALLS
            for n in own
        ):
            continue
        comp_targets = {id(t) for n in own if isinstance(n, ast.comprehension) for t in walk(n.target)}
        imported = {
            (a.asname or a.name).split(".")[0]
            for n in own
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in n.names
        }
        stored = {
            n.id
            for n in own
            if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Store | ast.Del)
            and id(n) not in comp_targets
        }
        stored |= {n.name for n in own if isinstance(n, ast.ExceptHandler) and n.name}
        excluded = param_names(func) | declared_names(own) | imported
        for n in nested:
            excluded |= identifiers(n)
        candidates = sorted(x for x in stored - excluded if x != "_" and not x.startswith("__"))
        if not candidates:
            continue
        mapping: dict[str, str] = {}
        for name in _subset(candidates, rng):
            mapping[name] = fresh_name(name, rng, taken)
            taken.add(mapping[name])
        for n in own:
            if isinstance(n, ast.Name) and n.id in mapping:
                n.id = mapping[n.id]
            elif isinstance(n, ast.ExceptHandler) and n.name in mapping:
                n.name = mapping[n.name]
        changed = True
    return changed


def _docstring_holders(tree: ast.Module) -> list[ast.AST]:
    return [
        tree,
        *(n for n in walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)),
    ]


def _strip_docstrings(tree: ast.Module, rng: random.Random) -> bool:
    """Remove the docstrings of some of the module, its classes and functions."""
    holders = [n for n in _docstring_holders(tree) if has_docstring(n)]
    for node in _subset(holders, rng):
        body: list[ast.stmt] = node.body  # type: ignore[attr-defined]
        body.pop(0)
        if not body:
            body.append(ast.Pass())
    return bool(holders)


def _alter_docstrings(tree: ast.Module, rng: random.Random) -> bool:
    """Reword, shorten or add docstrings (text only; no code changes)."""
    public = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    changed = False
    for node in _subset(_docstring_holders(tree), rng):
        name = getattr(node, "name", None)
        old = node.body[0].value.value if has_docstring(node) else None  # type: ignore[attr-defined]
        options: list[str] = []
        if old is not None and "\n" in old.strip():
            options.append(old.strip().splitlines()[0].strip())
        if name is None:
            options += [
                "Candidate solution module.",
                f"Module implementing {', '.join(public) or 'the task'}.",
            ]
        else:
            options += [f"Implementation of ``{name}``.", f"Compute ``{name}`` as the task contract states."]
        options = [o for o in options if o != old]
        if not options:
            continue
        doc = ast.Expr(ast.Constant(rng.choice(options)))
        if old is None:
            node.body.insert(0, doc)  # type: ignore[attr-defined]
        else:
            node.body[0] = doc  # type: ignore[attr-defined]
        changed = True
    return changed


def _reorder_imports(tree: ast.Module, rng: random.Random) -> bool:
    """Shuffle the module's leading block of independent top-level imports."""
    body = tree.body
    start = 1 if has_docstring(tree) else 0
    while (
        start < len(body) and isinstance(body[start], ast.ImportFrom) and body[start].module == "__future__"
    ):
        start += 1
    end = start
    while end < len(body) and isinstance(body[end], ast.Import | ast.ImportFrom):
        stmt = body[end]
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            break
        end += 1
    block = body[start:end]
    if len(block) < 2:
        return False
    seen: set[str] = set()
    for stmt in block:
        names = {(a.asname or a.name).split(".")[0] for a in stmt.names}  # type: ignore[attr-defined]
        if "*" in names or names & seen:
            return False
        seen |= names
    dumps = [ast.dump(s) for s in block]
    for _ in range(8):
        order = rng.sample(range(len(block)), len(block))
        if [dumps[i] for i in order] != dumps:
            body[start:end] = [block[i] for i in order]
            return True
    return False


_SCALAR_OPS = (ast.Add, ast.Sub, ast.Mult)


def _scalar_locals(func: FunctionNode, len_trusted: bool) -> tuple[list[ast.AST], set[str]]:
    """``func``'s own nodes and its locals provably holding plain numbers.

    A name qualifies when every binding is ``x = <number>``, ``x = len(...)``,
    ``x = x <op> <number>`` or ``x <op>= <number>`` (op in + - *): then ``x += c`` and
    ``x = x + c`` are the same (no in-place mutation of a shared object is possible).
    """
    own, nested = split_scope(func)
    excluded = param_names(func) | declared_names(own)
    for n in nested:
        excluded |= identifiers(n)
    good: set[int] = set()
    names: set[str] = set()
    for n in own:
        target = None
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            target, value = n.targets[0], n.value
            ok = (
                _numeric_const(value)
                or (len_trusted and _is_call_to(value, "len") and len(value.args) == 1)  # type: ignore[attr-defined]
                or (
                    isinstance(value, ast.BinOp)
                    and isinstance(value.op, _SCALAR_OPS)
                    and isinstance(value.left, ast.Name)
                    and value.left.id == target.id
                    and _numeric_const(value.right)
                )
            )
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            target = n.target
            ok = isinstance(n.op, _SCALAR_OPS) and _numeric_const(n.value)
        if target is not None and ok:
            good.add(id(target))
            names.add(target.id)
    bad = {
        n.id
        for n in own
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del) and id(n) not in good
    }
    return own, names - bad - excluded


class _ExpandAug(ast.NodeTransformer):
    def __init__(self, chosen: set[int]) -> None:
        self.chosen = chosen

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        if id(node) not in self.chosen:
            return node
        name = node.target.id  # type: ignore[attr-defined]
        value = ast.BinOp(ast.Name(name, ast.Load()), node.op, node.value)
        return ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], value), node)


class _ContractAug(ast.NodeTransformer):
    def __init__(self, chosen: set[int]) -> None:
        self.chosen = chosen

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if id(node) not in self.chosen:
            return node
        value: ast.BinOp = node.value  # type: ignore[assignment]
        name = node.targets[0].id  # type: ignore[attr-defined]
        return ast.copy_location(ast.AugAssign(ast.Name(name, ast.Store()), value.op, value.right), node)


def _augassign_expand(tree: ast.Module, rng: random.Random) -> bool:
    """``x += 1`` → ``x = x + 1`` for locals that provably hold plain numbers."""
    module_bound = bound_names(tree)
    sites: list[int] = []
    for func in functions(tree):
        own, scalars = _scalar_locals(func, "len" not in module_bound)
        sites += [
            id(n)
            for n in own
            if isinstance(n, ast.AugAssign)
            and isinstance(n.target, ast.Name)
            and n.target.id in scalars
            and isinstance(n.op, _SCALAR_OPS)
            and _numeric_const(n.value)
        ]
    if not sites:
        return False
    _ExpandAug(set(_subset(sites, rng))).visit(tree)
    return True


def _augassign_contract(tree: ast.Module, rng: random.Random) -> bool:
    """``x = x + 1`` → ``x += 1`` for locals that provably hold plain numbers."""
    module_bound = bound_names(tree)
    sites: list[int] = []
    for func in functions(tree):
        own, scalars = _scalar_locals(func, "len" not in module_bound)
        for n in own:
            if (
                isinstance(n, ast.Assign)
                and len(n.targets) == 1
                and isinstance(n.targets[0], ast.Name)
                and n.targets[0].id in scalars
                and isinstance(n.value, ast.BinOp)
                and isinstance(n.value.op, _SCALAR_OPS)
                and isinstance(n.value.left, ast.Name)
                and n.value.left.id == n.targets[0].id
                and _numeric_const(n.value.right)
            ):
                sites.append(id(n))
    if not sites:
        return False
    _ContractAug(set(_subset(sites, rng))).visit(tree)
    return True


def _swap_if_else(tree: ast.Module, rng: random.Random) -> bool:
    """``if c: A else: B`` → ``if not c: B else: A`` (truthiness only, so NaN-safe)."""
    sites = [n for n in walk(tree) if isinstance(n, ast.If) and n.orelse]
    if not sites:
        return False
    node = rng.choice(sites)
    test = node.test
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        new_test = test.operand
    else:
        new_test = ast.UnaryOp(ast.Not(), test)
    node.test, node.body, node.orelse = new_test, node.orelse, node.body
    return True


def _int_safe(expr: ast.AST, int_names: frozenset[str]) -> bool:
    """True when ``expr`` certainly evaluates to an ``int`` (so ``range`` cannot reject it)."""
    if isinstance(expr, ast.Constant):
        return type(expr.value) is int
    if _is_call_to(expr, "len"):
        return len(expr.args) == 1 and not expr.keywords  # type: ignore[attr-defined]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add | ast.Sub | ast.Mult | ast.FloorDiv):
        return _int_safe(expr.left, int_names) and _int_safe(expr.right, int_names)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        return _int_safe(expr.operand, int_names)
    if isinstance(expr, ast.Name):
        return expr.id in int_names
    if (
        isinstance(expr, ast.Subscript)
        and isinstance(expr.value, ast.Attribute)
        and expr.value.attr == "shape"
    ):
        return isinstance(expr.slice, ast.Constant) and type(expr.slice.value) is int
    return False


def _int_locals(own: list[ast.AST], excluded: set[str]) -> frozenset[str]:
    """Locals whose every binding is an int-safe expression or a ``for … in range(…)``."""
    good: set[int] = set()
    names: set[str] = set()
    for n in own:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            if _int_safe(n.value, frozenset()):
                good.add(id(n.targets[0]))
                names.add(n.targets[0].id)
        elif isinstance(n, ast.For) and isinstance(n.target, ast.Name) and _is_call_to(n.iter, "range"):
            good.add(id(n.target))
            names.add(n.target.id)
    bad = {
        n.id
        for n in own
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del) and id(n) not in good
    }
    return frozenset(names - bad - excluded)


def _has_own_continue(body: list[ast.stmt]) -> bool:
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Continue):
            return True
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While, *_SCOPES)):
            # a nested loop's ``continue`` belongs to it; its else-clause belongs to us
            if isinstance(node, ast.For | ast.AsyncFor | ast.While):
                stack.extend(node.orelse)
            continue
        stack.extend(_children(node))
    return False


def _for_to_while(tree: ast.Module, rng: random.Random) -> bool:
    """``for i in range(a, b): …`` → ``i = a`` / ``while i < b: …; i += 1`` where trivially safe.

    Safe means: bounds certainly ints, no ``continue``/``else``, the loop variable is not
    rebound in the body and not read anywhere else in the function.
    """
    module_bound = bound_names(tree)
    if "range" in module_bound or "len" in module_bound:
        return False
    taken = identifiers(tree)
    sites: list[tuple[list[ast.stmt], int]] = []
    for func in functions(tree):
        own, nested = split_scope(func)
        excluded = param_names(func) | declared_names(own)
        for n in nested:
            excluded |= identifiers(n)
        int_names = _int_locals(own, excluded)
        for block in [func.body, *stmt_blocks(own)]:
            for i, stmt in enumerate(block):
                if _for_convertible(stmt, own, excluded, int_names):
                    sites.append((block, i))
    if not sites:
        return False
    block, i = rng.choice(sites)
    loop: ast.For = block[i]  # type: ignore[assignment]
    name = loop.target.id  # type: ignore[attr-defined]
    if name == "_":
        name = fresh_name("i", rng, taken)
        taken.add(name)
    args = loop.iter.args  # type: ignore[attr-defined]
    start, stop = (ast.Constant(0), args[0]) if len(args) == 1 else (args[0], args[1])
    new: list[ast.stmt] = [ast.Assign([ast.Name(name, ast.Store())], start)]
    if isinstance(stop, ast.Constant):
        bound: ast.expr = stop
    else:
        stop_name = fresh_name("stop", rng, taken)
        new.append(ast.Assign([ast.Name(stop_name, ast.Store())], stop))
        bound = ast.Name(stop_name, ast.Load())
    step = ast.AugAssign(ast.Name(name, ast.Store()), ast.Add(), ast.Constant(1))
    test = ast.Compare(ast.Name(name, ast.Load()), [ast.Lt()], [bound])
    new.append(ast.While(test, [*loop.body, step], []))
    block[i : i + 1] = new
    return True


def _for_convertible(
    stmt: ast.stmt, own: list[ast.AST], excluded: set[str], int_names: frozenset[str]
) -> bool:
    if not (
        isinstance(stmt, ast.For)
        and isinstance(stmt.target, ast.Name)
        and not stmt.orelse
        and _is_call_to(stmt.iter, "range")
    ):
        return False
    call: ast.Call = stmt.iter  # type: ignore[assignment]
    if call.keywords or not 1 <= len(call.args) <= 2 or not all(_int_safe(a, int_names) for a in call.args):
        return False
    name = stmt.target.id
    if name in excluded or _has_own_continue(stmt.body):
        return False
    inside = {id(n) for n in walk(stmt)}
    for n in own:
        if isinstance(n, ast.Name) and n.id == name:
            if id(n) not in inside and isinstance(n.ctx, ast.Load):
                return False
            if id(n) in inside and n is not stmt.target and not isinstance(n.ctx, ast.Load):
                return False
            if name == "_" and id(n) in inside and n is not stmt.target:
                return False
    return True


def _remove_type_hints(tree: ast.Module, rng: random.Random) -> bool:
    """Drop parameter/return annotations and turn ``x: T = v`` into ``x = v`` in some functions."""
    sites: list[FunctionNode] = []
    for func in functions(tree):
        own, _ = split_scope(func)
        a = func.args
        args = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
        if (
            func.returns is not None
            or any(x is not None and x.annotation is not None for x in args)
            or any(isinstance(n, ast.AnnAssign) and n.value is not None for n in own)
        ):
            sites.append(func)
    if not sites:
        return False
    for func in _subset(sites, rng):
        a = func.args
        for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
            if x is not None:
                x.annotation = None
        func.returns = None
        own, _ = split_scope(func)
        for block in [func.body, *stmt_blocks(own)]:
            for i, stmt in enumerate(block):
                if isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    block[i] = ast.copy_location(ast.Assign([stmt.target], stmt.value), stmt)
    return True


_LITERAL_TYPES = {int: "int", float: "float", str: "str", bool: "bool"}


def _add_type_hints(tree: ast.Module, rng: random.Random) -> bool:
    """Annotate literal-initialised locals and defaults, and ``-> None`` on procedures."""
    shadowed = bound_names(tree)
    if shadowed & {"int", "float", "str", "bool", "list", "dict"}:
        return False
    edits: list[Callable[[], None]] = []
    for func in functions(tree):
        own, _ = split_scope(func)
        declared = declared_names(own)
        a = func.args
        positional = [*a.posonlyargs, *a.args]
        pairs = list(zip(positional[len(positional) - len(a.defaults) :], a.defaults))
        pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
        for arg, default in pairs:
            if (
                arg.annotation is None
                and isinstance(default, ast.Constant)
                and type(default.value) in _LITERAL_TYPES
            ):
                type_name = _LITERAL_TYPES[type(default.value)]
                edits.append(lambda arg=arg, t=type_name: setattr(arg, "annotation", ast.Name(t, ast.Load())))
        if func.returns is None and not any(
            (isinstance(n, ast.Return) and n.value is not None) or isinstance(n, ast.Yield | ast.YieldFrom)
            for n in own
        ):
            edits.append(lambda func=func: setattr(func, "returns", ast.Constant(None)))
        first: set[str] = set()
        for block in [func.body, *stmt_blocks(own)]:
            for i, stmt in enumerate(block):
                if not (
                    isinstance(stmt, ast.Assign)
                    and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)
                ):
                    continue
                name = stmt.targets[0].id
                type_name = _literal_type(stmt.value)
                if type_name is None or name in declared or name in first:
                    continue
                first.add(name)
                edits.append(lambda block=block, i=i, stmt=stmt, t=type_name: _annotate(block, i, stmt, t))
    if not edits:
        return False
    for edit in _subset(edits, rng):
        edit()
    return True


def _literal_type(value: ast.AST) -> str | None:
    if isinstance(value, ast.Constant) and type(value.value) in _LITERAL_TYPES:
        return _LITERAL_TYPES[type(value.value)]
    if isinstance(value, ast.List) and not value.elts:
        return "list"
    if isinstance(value, ast.Dict) and not value.keys:
        return "dict"
    return None


def _annotate(block: list[ast.stmt], i: int, stmt: ast.Assign, type_name: str) -> None:
    target = ast.Name(stmt.targets[0].id, ast.Store())  # type: ignore[attr-defined]
    block[i] = ast.copy_location(ast.AnnAssign(target, ast.Name(type_name, ast.Load()), stmt.value, 1), stmt)


def _add_alias(tree: ast.Module, rng: random.Random) -> bool:
    """Add a harmless private module-level alias of a public function after its definition."""
    taken = identifiers(tree)
    sites = [
        i
        for i, n in enumerate(tree.body)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and not n.name.startswith("_")
    ]
    if not sites:
        return False
    i = rng.choice(sites)
    name = tree.body[i].name  # type: ignore[attr-defined]
    options = [f"_{name}", f"_{name}_impl", f"{name}_impl", f"_{name}_alias"]
    alias = next((o for o in options if _usable(o, taken)), None)
    if alias is None:
        return False
    tree.body.insert(i + 1, ast.Assign([ast.Name(alias, ast.Store())], ast.Name(name, ast.Load())))
    return True


def reformat(source: str, rng: random.Random) -> str | None:
    """Re-emit the module in canonical layout (drops comments); None if already canonical."""
    out = normalize(source)
    if out is None or out.strip() == source.strip():
        return None
    return out + "\n"


def _on_source(fn: TreeRewrite) -> RewriteOp:
    """The source-level form of a tree rewrite: parse, rewrite, unparse (None: not applicable)."""

    @functools.wraps(fn)
    def op(source: str, rng: random.Random) -> str | None:
        tree = parse(source)
        if tree is None or not fn(tree, rng):
            return None
        return render(tree)

    return op


# Tree form: ``op(tree, rng) -> bool`` edits ``tree`` in place; False (tree untouched) when
# the rewrite does not apply. The generator chains these on one tree.
TREE_REWRITES: dict[str, TreeRewrite] = {
    "rename_locals": _rename_locals,
    "strip_docstrings": _strip_docstrings,
    "alter_docstrings": _alter_docstrings,
    "reorder_imports": _reorder_imports,
    "augassign_expand": _augassign_expand,
    "augassign_contract": _augassign_contract,
    "swap_if_else": _swap_if_else,
    "for_to_while": _for_to_while,
    "remove_type_hints": _remove_type_hints,
    "add_type_hints": _add_type_hints,
    "add_alias": _add_alias,
}

rename_locals = _on_source(_rename_locals)
strip_docstrings = _on_source(_strip_docstrings)
alter_docstrings = _on_source(_alter_docstrings)
reorder_imports = _on_source(_reorder_imports)
augassign_expand = _on_source(_augassign_expand)
augassign_contract = _on_source(_augassign_contract)
swap_if_else = _on_source(_swap_if_else)
for_to_while = _on_source(_for_to_while)
remove_type_hints = _on_source(_remove_type_hints)
add_type_hints = _on_source(_add_type_hints)
add_alias = _on_source(_add_alias)

# Source form of every rewrite: ``op(source, rng) -> str | None``.
REWRITES: dict[str, RewriteOp] = {
    "rename_locals": rename_locals,
    "strip_docstrings": strip_docstrings,
    "alter_docstrings": alter_docstrings,
    "reorder_imports": reorder_imports,
    "augassign_expand": augassign_expand,
    "augassign_contract": augassign_contract,
    "swap_if_else": swap_if_else,
    "for_to_while": for_to_while,
    "remove_type_hints": remove_type_hints,
    "add_type_hints": add_type_hints,
    "add_alias": add_alias,
    "reformat": reformat,
}

# ``reformat`` only changes layout, which the generator's duplicate check ignores.
CONTENT_REWRITES: tuple[str, ...] = tuple(TREE_REWRITES)
