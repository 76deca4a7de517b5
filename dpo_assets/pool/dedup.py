"""Duplicate certified samples: exact (same normalised code) and near (same structure, or
token-shingle Jaccard ≥ a threshold), always within one task.

Which copy survives: the one with the highest ``coverage`` (rows without a coverage, or a
pool without the column, rank last), ties broken by input order. Every dropped row names the
kept row it duplicates (``duplicate_of``), so ``kept`` + ``duplicates`` is the input.

Keys, from strongest to weakest:

* ``exact``: ``corpus.rewrites.normalize`` (layout and comments ignored); code that does not
  parse falls back to its whitespace-normalised text (``method`` ``normalized``/``whitespace``).
* ``near`` / ``ast``: the AST with every bound name alpha-renamed per scope (first occurrence
  first, so renaming a local in one function leaves the others' names alone), docstrings and
  other bare string statements removed, type annotations dropped and the string constants of
  messages (``raise …(…)``, ``assert …, msg``) replaced by a placeholder. What stays: free
  names (builtins, imported modules), parameter names and public module-level def names (the
  contract), attribute and keyword names, numbers (tolerances, bounds) and every other string:
  dict keys, roles and regexes are behaviour (in the bundled corpus ``"role": "tool"`` →
  ``"user"`` is a defect the gate catches).
* ``near`` / ``minhash``: 5-token shingles of that canonical form; a MinHash estimate (128
  hashes, numpy) preselects, the exact Jaccard of the shingle sets decides
  (≥ ``jaccard_threshold``, default 0.9).
"""

from __future__ import annotations

import ast
import hashlib
import io
import tokenize
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dpo_assets.corpus.rewrites import (
    FunctionNode,
    declared_names,
    normalize,
    param_names,
    parse,
    split_scope,
)

DUPLICATE_COLUMNS = ["duplicate_of", "kind", "method", "similarity"]
DEFAULT_JACCARD = 0.9
SHINGLE = 5
_PERMUTATIONS = 128
_PRIME = (1 << 31) - 1  # a·x + b stays below 2**63 for 32-bit x: no uint64 overflow
_RNG = np.random.default_rng(20240607)
_A = _RNG.integers(1, _PRIME, size=_PERMUTATIONS, dtype=np.uint64)
_B = _RNG.integers(0, _PRIME, size=_PERMUTATIONS, dtype=np.uint64)
_STR = "<str>"


def whitespace_normalized(code: str) -> str:
    """``code`` with every run of whitespace collapsed to one space."""
    return " ".join(code.split())


def exact_key(code: str) -> tuple[str, str]:
    """(method, key): the normalised module text, or whitespace-normalised text if unparsable."""
    text = normalize(code)
    return ("normalized", text) if text is not None else ("whitespace", whitespace_normalized(code))


@dataclass
class _Scope:
    """One function (or the module): the names it binds, its parameters, their canonical names."""

    prefix: str
    local: set[str]
    params: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)


def _scope_bindings(node: ast.Module | FunctionNode) -> set[str]:
    """Names bound in ``node``'s own scope (nested defs bind their name here), less declared ones."""
    own, nested = split_scope(node)  # type: ignore[arg-type]
    names: set[str] = set()
    for n in own:
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del):
            names.add(n.id)
        elif isinstance(n, ast.alias):
            names.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and n.name:
            names.add(n.name)
    names |= {n.name for n in nested if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    return names - declared_names(own)


class _Canonicalize(ast.NodeTransformer):
    """Alpha-rename bound names per scope (first occurrence first), drop docstrings, annotations
    and message strings. Parameters, public module-level defs and class-body names stay."""

    def __init__(self, tree: ast.Module) -> None:
        public = {
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and not n.name.startswith("_")
        }
        self.stack = [_Scope("_g", _scope_bindings(tree) - public)]
        self.in_message = False

    def canon(self, name: str) -> str:
        for scope in reversed(self.stack):
            if name in scope.params:
                return name
            if name in scope.local:
                return scope.names.setdefault(name, f"{scope.prefix}{len(scope.names)}")
        return name

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                kept = [s for s in block if not _bare_string(s)]
                setattr(node, name, kept or [ast.Pass()])
        return super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.canon(node.id)
        return node

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> ast.AST:
        if not isinstance(node, ast.Lambda):
            node.name, node.returns = self.canon(node.name), None
            node.decorator_list = [self.visit(d) for d in node.decorator_list]
        a = node.args
        a.defaults = [self.visit(d) for d in a.defaults]
        a.kw_defaults = [d if d is None else self.visit(d) for d in a.kw_defaults]
        params = param_names(node)  # type: ignore[arg-type]
        local = set() if isinstance(node, ast.Lambda) else _scope_bindings(node) - params
        self.stack.append(_Scope(f"_l{len(self.stack)}_", local, params))
        node.args = self.visit(a)  # only annotations left to drop
        if isinstance(node, ast.Lambda):
            node.body = self.visit(node.body)
        else:
            node.body = self.generic_visit(ast.Module(body=node.body, type_ignores=[])).body  # type: ignore[attr-defined]
        self.stack.pop()
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _visit_function

    def visit_arguments(self, node: ast.arguments) -> ast.AST:
        for x in [*node.posonlyargs, *node.args, *node.kwonlyargs, node.vararg, node.kwarg]:
            if x is not None:
                x.annotation = None
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.name = self.canon(node.name)
        self.stack.append(_Scope("_c", set()))
        out = self.generic_visit(node)
        self.stack.pop()
        return out

    def visit_alias(self, node: ast.alias) -> ast.AST:
        node.asname = self.canon((node.asname or node.name).split(".")[0])
        return node

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> ast.AST:
        node.names = [self.canon(n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.name:
            node.name = self.canon(node.name)
        return self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if node.value is None:
            return None
        return self.visit(ast.Assign(targets=[node.target], value=node.value, lineno=0))

    def _visit_message(self, node: ast.Raise | ast.Assert) -> ast.AST:
        for name in ("test", "exc", "cause", "msg"):
            child = getattr(node, name, None)
            if child is not None:
                self.in_message = name in ("exc", "msg")
                setattr(node, name, self.visit(child))
                self.in_message = False
        return node

    visit_Raise = visit_Assert = _visit_message

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if self.in_message and isinstance(node.value, str | bytes):
            node.value = _STR
        return node


def _bare_string(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def canonical_tree(code: str) -> ast.Module | None:
    """The canonical AST of ``code`` (see the module docstring), or None if it does not parse."""
    tree = parse(code)
    if tree is None:
        return None
    try:
        out = _Canonicalize(tree).visit(tree)
    except RecursionError:
        return None
    return ast.fix_missing_locations(out)


def structural_key(code: str) -> str | None:
    """A digest of the canonical AST: equal for programs that differ only in local names,
    layout, comments, docstrings, annotations or message strings."""
    tree = canonical_tree(code)
    if tree is None:
        return None
    try:
        dump = ast.dump(tree, annotate_fields=False, include_attributes=False)
    except RecursionError:
        return None
    return hashlib.blake2b(dump.encode(), digest_size=16).hexdigest()


def shingles(code: str, size: int = SHINGLE) -> frozenset[int]:
    """32-bit hashes of the ``size``-token windows of the canonical form (raw text if unparsable)."""
    tree = canonical_tree(code)
    text = code
    if tree is not None:
        try:
            text = ast.unparse(tree)
        except (RecursionError, ValueError):
            text = code
    try:
        tokens = [
            t.string
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.ENDMARKER)
            and t.string.strip()
        ]
    except (tokenize.TokenError, SyntaxError):
        tokens = text.split()
    if len(tokens) < size:
        tokens = tokens + [""] * (size - len(tokens))
    return frozenset(
        int.from_bytes(hashlib.blake2b("\x1f".join(tokens[i : i + size]).encode(), digest_size=4).digest())
        for i in range(len(tokens) - size + 1)
    )


def minhash(items: frozenset[int]) -> np.ndarray:
    """The MinHash signature (``_PERMUTATIONS`` values) of a set of 32-bit hashes."""
    if not items:
        return np.full(_PERMUTATIONS, _PRIME, dtype=np.uint64)
    x = np.fromiter(items, dtype=np.uint64, count=len(items))
    return ((x[None, :] * _A[:, None] + _B[:, None]) % _PRIME).min(axis=1)


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@dataclass
class _Kept:
    exact: dict[str, int]
    structural: dict[str, int]
    rows: list[int]
    sets: list[frozenset[int]]
    signatures: list[np.ndarray]


def _priority(pool: pd.DataFrame) -> list[int]:
    """Positions of ``pool``'s rows, best first: highest coverage, then input order."""
    if "coverage" not in pool.columns:
        return list(range(len(pool)))
    coverage = pd.to_numeric(pool["coverage"], errors="coerce").fillna(-np.inf).to_numpy()
    return sorted(range(len(pool)), key=lambda i: (-coverage[i], i))


def dedup(
    pool: pd.DataFrame, jaccard_threshold: float | None = DEFAULT_JACCARD
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``pool`` into (kept, duplicates) per task; ``jaccard_threshold=None`` disables MinHash.

    ``kept`` keeps the input's columns and order; ``duplicates`` adds ``duplicate_of`` (the kept
    row's ``sample_id``), ``kind`` (``exact``/``near``), ``method`` and ``similarity``.
    """
    ids = pool["sample_id"].astype(str).tolist()
    tasks = pool["task_id"].astype(str).tolist()
    codes = pool["code"].astype(str).tolist()
    by_task: dict[str, _Kept] = {}
    found: dict[int, tuple[str, str, str, float]] = {}
    preselect = None if jaccard_threshold is None else max(0.0, jaccard_threshold - 0.15)
    for i in _priority(pool):
        kept = by_task.setdefault(tasks[i], _Kept({}, {}, [], [], []))
        method, key = exact_key(codes[i])
        if (j := kept.exact.get(f"{method}:{key}")) is not None:
            found[i] = (ids[j], "exact", method, 1.0)
            continue
        skey = structural_key(codes[i])
        if skey is not None and (j := kept.structural.get(skey)) is not None:
            found[i] = (ids[j], "near", "ast", 1.0)
            continue
        items = shingles(codes[i]) if jaccard_threshold is not None else frozenset()
        signature = minhash(items) if jaccard_threshold is not None else np.empty(0, dtype=np.uint64)
        if jaccard_threshold is not None and kept.rows:
            estimates = (np.stack(kept.signatures) == signature).mean(axis=1)
            scored = [(jaccard(items, kept.sets[k]), -int(k)) for k in np.flatnonzero(estimates >= preselect)]
            if scored and (best := max(scored))[0] >= jaccard_threshold:
                found[i] = (ids[kept.rows[-best[1]]], "near", "minhash", round(best[0], 4))
                continue
        kept.exact[f"{method}:{key}"] = i
        if skey is not None:
            kept.structural[skey] = i
        kept.rows.append(i)
        kept.sets.append(items)
        kept.signatures.append(signature)
    dropped = sorted(found)
    keep_mask = np.ones(len(pool), dtype=bool)
    keep_mask[dropped] = False
    kept_frame = pool.iloc[np.flatnonzero(keep_mask)].reset_index(drop=True)
    duplicates = pool.iloc[dropped].reset_index(drop=True)
    extra = pd.DataFrame([found[i] for i in dropped], columns=DUPLICATE_COLUMNS)
    duplicates = pd.concat([duplicates, extra.astype({"similarity": "float64"})], axis=1)
    return kept_frame, duplicates


def duplicate_counts(duplicates: pd.DataFrame) -> dict[str, int]:
    """Dropped rows by ``kind/method`` (metadata)."""
    if duplicates.empty:
        return {}
    keys = duplicates["kind"].astype(str) + "/" + duplicates["method"].astype(str)
    return {str(k): int(v) for k, v in keys.value_counts().sort_index().items()}
