"""Gate layer 6: dataflow — state-update checks over the candidate's AST.

Pure and static: the candidate is parsed, never executed. One generic engine interprets
each rule type of :data:`~dpo_assets.tasks.base.DataflowRule` declared in
``task.dataflow``:

* :class:`~dpo_assets.tasks.base.AppendEveryIteration` — in ``function``, every loop
  that calls ``step`` (directly or via a module/local helper) must append (or index-assign,
  ``extend``, ``+=``) to the returned list on every iteration. An append guarded by a
  condition other than an *index guard* (a test over loop counters, parameters and
  ``len(...)`` only, e.g. ``if i >= burn_in``) is a violation, as is a ``continue`` under
  such a condition before the append. When no loop calling ``step`` appends at all the
  chain is never recorded: violation (unless the steps happen in a comprehension or only
  via helpers, which are accepted).
* :class:`~dpo_assets.tasks.base.CarryState` — every direct ``step(...)`` call in
  ``function`` must keep element ``result_index`` of its result (``x, a = step(..)``,
  ``x = step(..)[i]``, ``r = step(..); x = r[i]``); discarding it (bare statement, ``_``)
  is a violation. Inside a loop, the name passed as argument ``arg_index`` must be the
  kept state or be re-assigned from it in that loop.
* :class:`~dpo_assets.tasks.base.AppendEachResult` — each result of a call whose callee's
  root name is ``call`` (``llm(..)``, ``tools[name](..)``) must reach ``target`` (or the
  list returned under the key ``target``). The value is followed through assignments,
  literals, f-strings, ``str``/``repr``/``format``/``dict`` and method calls on it; an
  external library call (``json.loads(reply)``) or a comparison consumes it. Wherever the
  flow cannot be followed (module helpers, methods, attributes, returns, yields,
  closures) the rule is lenient: no violation.

A candidate that does not parse yields no violation here (layer 5 reports syntax errors);
a rule whose ``function`` is missing is skipped as well (earlier layers catch that).
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator

from dpo_assets.gate.engine import Violation
from dpo_assets.tasks.base import AppendEachResult, AppendEveryIteration, CarryState, DataflowRule, Task

LAYER = 6
NAME = "dataflow"

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_APPENDERS = frozenset({"append", "extend", "insert", "appendleft", "add"})
_DISCARDS = frozenset({"_", "__"})
# calls allowed in an index guard, and calls that do not make a name "state-derived"
_CLEAN_CALLS = frozenset({"len", "range", "int", "float", "min", "max", "abs", "enumerate", "round"})
# builtins the value flows through unchanged (for AppendEachResult)
_TRANSPARENT = frozenset({"str", "repr", "format", "dict", "list", "tuple", "ascii"})
_BUILTINS = frozenset(dir(builtins))


def check(task: Task, source: str) -> list[Violation]:
    """All dataflow violations of ``source`` against ``task.dataflow`` (no execution)."""
    if not task.dataflow:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []  # layer 5 reports unparsable candidates
    module = _Module(tree, source)
    violations: list[Violation] = []
    for rule in task.dataflow:
        violations.extend(check_rule(module, rule))
    return violations


def check_rule(module: _Module, rule: DataflowRule) -> list[Violation]:
    func = module.function(rule.function)
    if func is None:
        return []
    if isinstance(rule, AppendEveryIteration):
        return _append_every_iteration(module, func, rule)
    if isinstance(rule, CarryState):
        return _carry_state(module, func, rule)
    if isinstance(rule, AppendEachResult):
        return _append_each_result(module, func, rule)
    return []


# ----------------------------------------------------------------------------- helpers


class _Module:
    def __init__(self, tree: ast.Module, source: str) -> None:
        self.tree = tree
        self.source = source
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.defs: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.defs.setdefault(node.name, []).append(node)
        self.imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    self.imported.add((alias.asname or alias.name).split(".")[0])
        self.classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}

    def function(self, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                return node
        found = self.defs.get(name)
        return found[0] if found else None

    def segment(self, node: ast.AST) -> str:
        text = ast.get_source_segment(self.source, node) or ""
        return text.strip().splitlines()[0][:200] if text.strip() else ""

    def callers_of(self, step: str) -> set[str]:
        """``step`` and every module function that (transitively) calls it by name."""
        names = {step}
        changed = True
        while changed:
            changed = False
            for name, nodes in self.defs.items():
                if name in names:
                    continue
                if any(
                    _callee_name(c) in names for n in nodes for c in ast.walk(n) if isinstance(c, ast.Call)
                ):
                    names.add(name)
                    changed = True
        return names


def _walk_scope(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes under ``node`` without descending into nested functions/classes/lambdas."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        yield child
        if not isinstance(child, _SCOPES):
            stack.extend(ast.iter_child_nodes(child))


def _callee_name(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Subscript | ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _stored_names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _line(node: ast.AST) -> int:
    return getattr(node, "lineno", 0)


def _enclosing_loop(module: _Module, node: ast.AST, func: ast.AST) -> ast.AST | None:
    """The innermost loop or comprehension around ``node`` inside ``func``'s own scope."""
    cur = module.parents.get(node)
    while cur is not None and cur is not func:
        if isinstance(cur, _LOOPS + _COMPREHENSIONS):
            return cur
        if isinstance(cur, _SCOPES):
            return None
        cur = module.parents.get(cur)
    return None


def _in_own_scope(module: _Module, node: ast.AST, func: ast.AST) -> bool:
    cur = module.parents.get(node)
    while cur is not None and cur is not func:
        if isinstance(cur, _SCOPES):
            return False
        cur = module.parents.get(cur)
    return cur is func


# ---------------------------------------------------------------- AppendEveryIteration


def _append_every_iteration(module: _Module, func: ast.AST, rule: AppendEveryIteration) -> list[Violation]:
    callers = module.callers_of(rule.step)
    calls = [n for n in _walk_scope(func) if isinstance(n, ast.Call) and _callee_name(n) in callers]
    if not calls:
        return []
    returned = {
        name
        for n in _walk_scope(func)
        if isinstance(n, ast.Return) and n.value is not None
        for name in _loaded_names(n.value)
    }
    tainted = _state_names(module, func, callers)
    loops: dict[int, tuple[ast.AST, bool]] = {}
    for call in calls:
        loop = _enclosing_loop(module, call, func)
        if loop is None or isinstance(loop, _COMPREHENSIONS):
            continue  # a comprehension yields one item per step: accepted
        direct = _callee_name(call) == rule.step
        prev = loops.get(id(loop))
        loops[id(loop)] = (loop, direct or (prev is not None and prev[1]))
    if not loops:
        return []
    checker = _Coverage(returned, tainted)
    violations: list[Violation] = []
    appending = 0
    only_direct = True
    for loop, direct in loops.values():
        only_direct = only_direct and direct
        if not any(checker.is_append(s) for s in _walk_scope(loop) if isinstance(s, ast.stmt)):
            continue
        appending += 1
        if checker.block(loop.body) not in ("append", "exit"):  # type: ignore[attr-defined]
            violations.append(
                Violation(
                    f"{rule.function} (line {_line(loop)})",
                    f"the loop calling {rule.step} appends the state only under a condition,"
                    " not on every step",
                    module.segment(loop),
                )
            )
    if (
        appending == 0
        and only_direct
        and not any(isinstance(n, ast.Yield | ast.YieldFrom) for n in _walk_scope(func))
    ):
        loop = next(iter(loops.values()))[0]
        violations.append(
            Violation(
                f"{rule.function} (line {_line(loop)})",
                f"no loop calling {rule.step} appends the current state to the result",
                module.segment(loop),
            )
        )
    return violations


def _state_names(module: _Module, func: ast.AST, callers: set[str]) -> set[str]:
    """Names assigned (transitively) from a step/helper call or any other non-trivial call."""
    assigns: list[tuple[set[str], ast.AST]] = []
    for node in _walk_scope(func):
        if isinstance(node, ast.Assign):
            names = set().union(*(_stored_names(t) for t in node.targets))
            assigns.append((names, node.value))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and node.value is not None:
            assigns.append((_stored_names(node.target), node.value))
    tainted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for names, value in assigns:
            if names <= tainted:
                continue
            dirty = bool(_loaded_names(value) & tainted) or any(
                isinstance(c, ast.Call) and _callee_name(c) not in _CLEAN_CALLS for c in ast.walk(value)
            )
            if dirty:
                tainted |= names
                changed = True
    return tainted


class _Coverage:
    """Does a loop body append to the result on every path that goes on looping?

    ``block`` returns ``"append"`` (every path appends), ``"exit"`` (every path leaves the
    loop), ``"skip"`` (some path ``continue``s before appending) or ``None``.
    """

    def __init__(self, returned: set[str], tainted: set[str]) -> None:
        self.returned = returned
        self.tainted = tainted

    def _sink(self, node: ast.AST) -> bool:
        name = _root_name(node)
        return name is not None and (not self.returned or name in self.returned)

    def is_append(self, stmt: ast.AST) -> bool:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            return isinstance(func, ast.Attribute) and func.attr in _APPENDERS and self._sink(func.value)
        if isinstance(stmt, ast.Assign):
            return any(isinstance(t, ast.Subscript) and self._sink(t.value) for t in stmt.targets) or any(
                isinstance(t, ast.Name) and t.id in self.returned and t.id in _loaded_names(stmt.value)
                for t in stmt.targets
            )
        if isinstance(stmt, ast.AugAssign):
            return self._sink(stmt.target) and isinstance(stmt.op, ast.Add)
        return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Yield | ast.YieldFrom)

    def index_guard(self, test: ast.AST) -> bool:
        for node in ast.walk(test):
            if isinstance(node, ast.Call) and _callee_name(node) not in _CLEAN_CALLS:
                return False
            if isinstance(node, ast.Name) and node.id in self.tainted:
                return False
        return True

    def block(self, stmts: list[ast.stmt]) -> str | None:
        for stmt in stmts:
            result = self.stmt(stmt)
            if result is not None:
                return result
        return None

    def stmt(self, stmt: ast.stmt) -> str | None:
        if self.is_append(stmt):
            return "append"
        if isinstance(stmt, ast.Continue):
            return "skip"
        if isinstance(stmt, ast.Break | ast.Return | ast.Raise):
            return "exit"
        if isinstance(stmt, ast.If):
            body, orelse = self.block(stmt.body), self.block(stmt.orelse)
            if self.index_guard(stmt.test):
                return "append" if "append" in (body, orelse) else None
            return _join([body, orelse])
        if isinstance(stmt, ast.Match):
            results = [self.block(case.body) for case in stmt.cases]
            if not any(isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None for c in stmt.cases):
                results.append(None)
            return _join(results)
        if isinstance(stmt, ast.With | ast.AsyncWith):
            return self.block(stmt.body)
        if isinstance(stmt, ast.Try | ast.TryStar):
            return self.block(stmt.body) or self.block(stmt.finalbody)
        if isinstance(stmt, _LOOPS):
            return "append" if self.block(stmt.body) == "append" else None  # type: ignore[attr-defined]
        return None


def _join(results: list[str | None]) -> str | None:
    if "skip" in results:
        return "skip"
    if all(r == "exit" for r in results):
        return "exit"
    if all(r in ("append", "exit") for r in results):
        return "append"
    return None


# ------------------------------------------------------------------------ CarryState

_UNKNOWN = object()
_DISCARDED = object()


def _carry_state(module: _Module, func: ast.AST, rule: CarryState) -> list[Violation]:
    violations: list[Violation] = []
    for call in _walk_scope(func):
        if not (isinstance(call, ast.Call) and _callee_name(call) == rule.step):
            continue
        state = _kept_state(module, func, call, rule.result_index)
        where = f"{rule.function} (line {_line(call)})"
        if state is _DISCARDED:
            violations.append(
                Violation(
                    where,
                    f"the state returned by {rule.step} (element {rule.result_index}) is discarded",
                    module.segment(call),
                )
            )
            continue
        loop = _enclosing_loop(module, call, func)
        if loop is None or len(call.args) <= rule.arg_index:
            continue
        if any(isinstance(a, ast.Starred) for a in call.args[: rule.arg_index + 1]):
            continue
        arg = call.args[rule.arg_index]
        if not isinstance(arg, ast.Name):
            continue
        if _carried(loop, arg.id, state):
            continue
        violations.append(
            Violation(
                where,
                f"{arg.id!r} passed to {rule.step} is never updated from its result in the loop:"
                " the chain does not move",
                module.segment(call),
            )
        )
    return violations


def _carried(loop: ast.AST, arg: str, state: object) -> bool:
    stores: list[ast.AST] = []  # assignments to ``arg`` inside the loop
    for node in ast.walk(loop):
        if isinstance(node, ast.Assign) and any(arg in _stored_names(t) for t in node.targets):
            stores.append(node.value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and arg in _stored_names(
            node.target
        ):
            stores.append(node.value if node.value is not None else node)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension) and arg in _stored_names(
            node.target
        ):
            stores.append(node.iter)
    if state is _UNKNOWN:
        return bool(stores)
    if arg == state:
        return True
    return any(state in _loaded_names(value) for value in stores)


def _kept_state(module: _Module, func: ast.AST, call: ast.Call, index: int) -> object:
    """The name holding element ``index`` of ``call``'s result, ``_DISCARDED`` or ``_UNKNOWN``."""
    node: ast.AST = call
    whole = True
    parent = module.parents.get(node)
    if isinstance(parent, ast.Subscript) and parent.value is node:
        sub = parent.slice
        if not (isinstance(sub, ast.Constant) and isinstance(sub.value, int)):
            return _UNKNOWN
        if sub.value != index:
            return _DISCARDED if _value_dropped(module, parent) else _UNKNOWN
        node, whole = parent, False
        parent = module.parents.get(node)
    if isinstance(parent, ast.Expr):
        return _DISCARDED
    if isinstance(parent, ast.NamedExpr) and whole is False:
        return parent.target.id
    if not (isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1):
        return _UNKNOWN
    target = parent.targets[0]
    if isinstance(target, ast.Tuple | ast.List):
        if not whole or any(isinstance(e, ast.Starred) for e in target.elts) or index >= len(target.elts):
            return _UNKNOWN
        target = target.elts[index]
        whole = False
    if not isinstance(target, ast.Name):
        return _UNKNOWN
    if target.id in _DISCARDS:
        return _DISCARDED
    if not whole:
        return target.id
    return _state_from_result(func, target.id, index)


def _value_dropped(module: _Module, node: ast.AST) -> bool:
    parent = module.parents.get(node)
    if isinstance(parent, ast.Expr):
        return True
    return isinstance(parent, ast.Assign) and all(
        isinstance(t, ast.Name) and t.id in _DISCARDS for t in parent.targets
    )


def _state_from_result(func: ast.AST, result: str, index: int) -> object:
    """``res = step(..)``: the name later assigned ``res[index]`` (or unpacked from ``res``)."""
    uses = [
        n
        for n in ast.walk(func)
        if isinstance(n, ast.Name) and n.id == result and isinstance(n.ctx, ast.Load)
    ]
    if not uses:
        return _DISCARDED
    parents = {child: node for node in ast.walk(func) for child in ast.iter_child_nodes(node)}
    other_indices_only = True
    for use in uses:
        parent = parents.get(use)
        if isinstance(parent, ast.Subscript) and isinstance(parent.slice, ast.Constant):
            if parent.slice.value != index:
                continue
            other_indices_only = False
            grand = parents.get(parent)
            if (
                isinstance(grand, ast.Assign)
                and len(grand.targets) == 1
                and isinstance(grand.targets[0], ast.Name)
            ):
                return grand.targets[0].id
            return _UNKNOWN
        other_indices_only = False
        if isinstance(parent, ast.Assign) and isinstance(parent.targets[0], ast.Tuple | ast.List):
            elts = parent.targets[0].elts
            if index < len(elts) and isinstance(elts[index], ast.Name):
                name = elts[index].id
                return _DISCARDED if name in _DISCARDS else name
    return _DISCARDED if other_indices_only else _UNKNOWN


# ------------------------------------------------------------------- AppendEachResult


def _append_each_result(module: _Module, func: ast.AST, rule: AppendEachResult) -> list[Violation]:
    sinks = _sink_names(func, rule.target)
    if not sinks:
        return []
    violations: list[Violation] = []
    for call in ast.walk(func):
        if not isinstance(call, ast.Call) or isinstance(call.func, ast.Attribute):
            continue
        if _root_name(call.func) != rule.call:
            continue
        if _reaches(module, func, call, sinks):
            continue
        violations.append(
            Violation(
                f"{rule.function} (line {_line(call)})",
                f"the result of this {rule.call} call never reaches {rule.target}",
                module.segment(call),
            )
        )
    return violations


def _sink_names(func: ast.AST, target: str) -> set[str]:
    sinks: set[str] = set()
    bound = False
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and node.id == target and isinstance(node.ctx, ast.Store):
            bound = True
        if isinstance(node, ast.arg) and node.arg == target:
            bound = True
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == target and isinstance(value, ast.Name):
                    sinks.add(value.id)
        if isinstance(node, ast.Call) and _callee_name(node) == "dict":
            for kw in node.keywords:
                if kw.arg == target and isinstance(kw.value, ast.Name):
                    sinks.add(kw.value.id)
    if bound:
        sinks.add(target)
    changed = True
    while changed:  # simple aliases: ``history = messages``
        changed = False
        for node in ast.walk(func):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
                for t in node.targets:
                    if isinstance(t, ast.Name) and (node.value.id in sinks) != (t.id in sinks):
                        sinks |= {t.id, node.value.id}
                        changed = True
    return sinks


def _reaches(module: _Module, func: ast.AST, call: ast.Call, sinks: set[str]) -> bool:
    tainted: set[str] = set()
    work: list[ast.AST] = [call]
    seen: set[str] = set()
    while True:
        while work:
            outcome = _climb(module, work.pop(), sinks, tainted)
            if outcome:
                return True
        fresh = tainted - seen
        if not fresh:
            return False
        seen |= fresh
        work = [
            n
            for n in ast.walk(func)
            if isinstance(n, ast.Name) and n.id in fresh and isinstance(n.ctx, ast.Load)
        ]


def _climb(module: _Module, node: ast.AST, sinks: set[str], tainted: set[str]) -> bool:
    """Follow a value up the tree; True when it reaches a sink or flows where we cannot follow."""
    while True:
        parent = module.parents.get(node)
        if parent is None:
            return True
        if isinstance(parent, ast.Call):
            if parent.func is node:  # a method called on the value, or the value called
                if isinstance(node, ast.Attribute):
                    node = parent
                    continue
                return False
            func = parent.func
            if isinstance(func, ast.Attribute) and func.attr in _APPENDERS | {"__iadd__"}:
                receiver = _root_name(func.value)
                if receiver in sinks:
                    return True
                if receiver is not None and not isinstance(func.value, ast.Call):
                    tainted.add(receiver)
                    return False
            kind = _callee_kind(module, func)
            if kind == "transparent":
                node = parent
                continue
            return kind == "unknown"
        if isinstance(parent, ast.keyword):
            node = parent
            continue
        if isinstance(parent, ast.Attribute):
            node = parent  # ``reply.strip`` (then called) or an attribute read
            continue
        if isinstance(parent, ast.Subscript):
            if parent.value is node:
                node = parent
                continue
            return False  # used as an index
        if isinstance(
            parent,
            ast.JoinedStr
            | ast.FormattedValue
            | ast.BinOp
            | ast.BoolOp
            | ast.IfExp
            | ast.Dict
            | ast.List
            | ast.Tuple
            | ast.Set
            | ast.Starred
            | ast.Await,
        ):
            if isinstance(parent, ast.IfExp) and parent.test is node:
                return False
            node = parent
            continue
        if isinstance(parent, ast.Assign | ast.AnnAssign | ast.AugAssign):
            if parent.value is not node:
                return False
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            for target in targets:
                root = _root_name(target)
                if root in sinks and (isinstance(target, ast.Subscript) or isinstance(parent, ast.AugAssign)):
                    return True
                if isinstance(target, ast.Attribute):
                    return True  # ``self.x = ...``: cannot follow
                tainted |= _stored_names(target)
                if isinstance(target, ast.Subscript) and root is not None:
                    tainted.add(root)
            return False
        if isinstance(parent, ast.NamedExpr):
            tainted |= _stored_names(parent.target)
            node = parent
            continue
        if isinstance(parent, ast.For | ast.AsyncFor | ast.comprehension):
            if parent.iter is node:
                tainted |= _stored_names(parent.target)
            return False
        if isinstance(parent, ast.withitem):
            if parent.optional_vars is not None:
                tainted |= _stored_names(parent.optional_vars)
            return False
        # a statement or test consumes the value; anything else (return, yield, lambda,
        # comprehension element, match subject, ...) cannot be followed: lenient
        consumers = (
            ast.Expr | ast.Compare | ast.UnaryOp | ast.If | ast.While | ast.Assert | ast.Delete | ast.Raise
        )
        return not isinstance(parent, consumers)


def _callee_kind(module: _Module, func: ast.AST) -> str:
    """``transparent`` (str, dict, ...), ``external`` (consumes the value) or ``unknown``."""
    if isinstance(func, ast.Name):
        if func.id in module.defs or func.id in module.classes:
            return "unknown"
        if func.id in _TRANSPARENT:
            return "transparent"
        if func.id in _BUILTINS or func.id in module.imported:
            return "external"
        return "unknown"
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in module.imported
        and func.value.id not in module.defs
    ):
        return "external"
    return "unknown"
