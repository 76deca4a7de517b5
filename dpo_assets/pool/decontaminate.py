"""Drop chosen samples that overlap benchmark problems (HumanEval, HumanEval+, MBPP+, MBPP).

Two channels, both matched against one index built once over every problem:

* **code**: a sample's code (and the code in its prompt) is normalised by :func:`normalize_code`
  (comments and docstrings dropped, ``ast.unparse`` formatting where the code parses, tokens
  from :mod:`tokenize`), then compared with each problem's reference code (HumanEval: prompt +
  canonical solution; MBPP: the reference code);
* **text**: lowercased words of a sample's prompt and code against each problem's task text
  (HumanEval's prompt with its docstring, MBPP's task description).

A match is ``exact`` when a problem's normalised solution block (≥ :data:`MIN_BLOCK_LINES`
non-trivial lines) or its whole normalised code (def line included) appears as a contiguous run
of the sample's normalised non-trivial lines, or the sample's (≥ 3 lines) in the problem's, or
when a problem's whole task text (≥ :data:`MIN_TEXT_WORDS` words) appears in the sample's. It
is ``ngram`` when they share at least one token n-gram (default 13) that is not allow-listed
(:data:`ALLOWED_NGRAMS`) and, for code, holds :data:`MIN_DISTINCTIVE_TOKENS` distinctive tokens.
Trivial lines (:func:`is_trivial_line`) are left out before n-grams are formed, so boilerplate
never counts and never bridges two real lines.

The index is built once (:meth:`BenchmarkIndex.build`, a dict from n-gram hash to problems);
scanning a sample costs time linear in its length, not in the number of problems.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import textwrap
import tokenize
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dpo_assets.evaldata.problems import Problem

DEFAULT_N = 13
MIN_BLOCK_LINES = 3  # a solution block needs this many non-trivial lines to be an exact match
MIN_FULL_TOKENS = 10  # a problem's whole code (def line included) needs this many tokens
MIN_TEXT_WORDS = 8  # a task text shorter than this is never an exact text match
SNIPPET_CHARS = 300
_MEMO_SIZE = 4096  # texts whose scan result an index remembers

# Normalised lines (tokens joined by one space, strings in ``repr`` form) that carry no
# information about which problem they came from. Import lines are trivial too (see
# :func:`is_trivial_line`). Keep this list short: every entry is a line an overlap may hide in.
TRIVIAL_LINES: frozenset[str] = frozenset(
    {
        "if __name__ == '__main__' :",
        "doctest . testmod ( )",
        "unittest . main ( )",
        "main ( )",
        "pass",
        "break",
        "continue",
        "else :",
        "try :",
        "finally :",
        "except Exception :",
        "return",
        "return None",
        "return True",
        "return False",
        "return 0",
        "return [ ]",
        "return result",
        "return res",
        "return ans",
        "result = [ ]",
        "res = [ ]",
        "ans = [ ]",
        "result = 0",
    }
)

# Token n-grams (tokens joined by one space) that never count as overlap. Empty so far: with the
# rule below, no code n-gram of the bundled corpus is shared with any benchmark problem.
ALLOWED_NGRAMS: frozenset[str] = frozenset()

# A code n-gram counts only if it holds at least this many *distinctive* tokens
# (:func:`is_distinctive`). Without the rule, loop headers such as
# ``for i in range ( n ) : for j in range (`` or ``for i in range ( n - 1 , - 1 , -`` (13 tokens
# of keywords, builtins, one-letter names, punctuation) matched 38 of the 468 bundled samples
# (Cholesky/LU/FFT loops) against MBPP and HumanEval problems: generic idioms, not overlap.
MIN_DISTINCTIVE_TOKENS = 2
_COMMON_NAMES = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))

_SKIP_TOKENS = frozenset(
    {
        tokenize.NEWLINE,
        tokenize.NL,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.COMMENT,
        tokenize.ENCODING,
        tokenize.ENDMARKER,
    }
)
_TRIPLE_QUOTED = re.compile(r"(?s)(\"\"\"|''').*?\1")
_WORD = re.compile(r"[A-Za-z0-9_]+")

AUDIT_COLUMNS = (
    "sample_id",
    "task_id",
    "benchmark",
    "problem_id",
    "kind",
    "field",
    "shared_ngrams",
    "snippet",
)


# --------------------------------------------------------------------------- normalisation


_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def _is_bare_string(stmt: ast.AST) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _strip_docstrings(node: ast.AST) -> None:
    """Remove every bare string statement (docstrings included), walking statements only; a
    body left empty gets ``pass``."""
    for name in _STATEMENT_LISTS:
        body = getattr(node, name, None)
        if not isinstance(body, list):
            continue
        kept = [stmt for stmt in body if not _is_bare_string(stmt)]
        if len(kept) != len(body):
            kept = kept or ([ast.Pass()] if name == "body" else [])
            setattr(node, name, kept)
        for stmt in kept:
            _strip_docstrings(stmt)


def _canonical_source(text: str) -> str | None:
    """``ast.unparse`` of ``text`` (or of it dedented) without docstrings; None if unparsable."""
    for candidate in (text, textwrap.dedent(text)):
        try:
            with warnings.catch_warnings():  # invalid escapes in benchmark code warn on parse
                warnings.simplefilter("ignore")
                tree = ast.parse(candidate)
        except (SyntaxError, ValueError):
            continue
        _strip_docstrings(tree)
        return ast.unparse(tree)
    return None


def _token_text(tok: tokenize.TokenInfo) -> str:
    if tok.type == tokenize.STRING:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return repr(ast.literal_eval(tok.string))
        except (ValueError, SyntaxError):
            return tok.string
    return tok.string


def _tokenize_lines(source: str) -> list[tuple[str, ...]]:
    """Logical lines of ``source`` as token tuples; stops quietly where tokenize gives up."""
    lines: list[tuple[str, ...]] = []
    current: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NEWLINE:
                if current:
                    lines.append(tuple(current))
                current = []
            elif tok.type not in _SKIP_TOKENS and tok.string.strip():
                current.append(_token_text(tok))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    if current:
        lines.append(tuple(current))
    return lines


def _fallback_lines(text: str) -> list[tuple[str, ...]]:
    """Line-level normalisation for code that does not parse: triple-quoted strings dropped,
    each line tokenized on its own (comments and blanks fall away)."""
    lines: list[tuple[str, ...]] = []
    for raw in _TRIPLE_QUOTED.sub("", text).splitlines():
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            lines.extend(_tokenize_lines(stripped + "\n"))
    return lines


def normalized_lines(text: str) -> list[tuple[str, ...]]:
    """``text`` as non-blank logical lines of tokens, comments and docstrings dropped."""
    source = _canonical_source(text)
    if source is not None:
        return _tokenize_lines(source)
    return _fallback_lines(text)


def normalize_code(text: str) -> list[str]:
    """The token list of ``text`` (names, operators, literals) after normalisation: comments and
    docstrings dropped and formatting canonical where it parses, line by line otherwise."""
    return [tok for line in normalized_lines(text) for tok in line]


def is_trivial_line(line: str | Sequence[str]) -> bool:
    """Whether a normalised line is boilerplate: an import or one of :data:`TRIVIAL_LINES`."""
    tokens = line.split() if isinstance(line, str) else list(line)
    if not tokens:
        return True
    if tokens[0] == "import" or (tokens[0] == "from" and "import" in tokens):
        return True
    return " ".join(tokens) in TRIVIAL_LINES


def _content_lines(text: str) -> list[str]:
    """Normalised non-trivial lines of ``text``, each as tokens joined by one space."""
    return [" ".join(line) for line in normalized_lines(text) if not is_trivial_line(line)]


def is_distinctive(token: str) -> bool:
    """A token that says something about where code came from: a name of two or more characters
    that is neither a keyword nor a builtin, a string literal, or a number other than 0, 1, 2."""
    if len(token) >= 2 and token[-1] in "'\"":  # a string literal, prefixed or not
        return True
    if token.isidentifier():
        return len(token) >= 2 and token not in _COMMON_NAMES
    return token[:1].isdigit() and token not in ("0", "1", "2")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _ngrams(tokens: Sequence[str], n: int, min_distinctive: int = 0) -> dict[int, str]:
    """Distinct n-grams of ``tokens`` by hash, first occurrence first, without allow-listed ones
    and those with fewer than ``min_distinctive`` distinctive tokens."""
    grams: dict[int, str] = {}
    if len(tokens) < n:
        return grams
    flags = [is_distinctive(tok) for tok in tokens] if min_distinctive else [False] * len(tokens)
    distinct = sum(flags[:n])
    for i in range(len(tokens) - n + 1):
        if i:
            distinct += flags[i + n - 1] - flags[i - 1]
        if distinct < min_distinctive:
            continue
        window = tuple(tokens[i : i + n])
        key = hash(window)
        if key not in grams:
            text = " ".join(window)
            if text not in ALLOWED_NGRAMS:
                grams[key] = text
    return grams


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True)
class Match:
    """One overlap between a sample and a benchmark problem."""

    sample_id: str
    task_id: str
    benchmark: str
    problem_id: str
    kind: str  # "exact" or "ngram"
    field: str  # "code" or "prompt": the part of the sample that overlaps
    shared_ngrams: int
    snippet: str


@dataclass
class BenchmarkIndex:
    """N-gram and line-block index over benchmark problems; build once with :meth:`build`."""

    problems: list[Problem]
    n: int
    code_grams: dict[int, list[int]] = field(default_factory=dict)  # n-gram hash -> problem indices
    text_grams: dict[int, list[int]] = field(default_factory=dict)
    lines: list[list[str]] = field(default_factory=list)  # per problem: all non-trivial lines
    blocks: list[tuple[int, list[str]]] = field(default_factory=list)  # (problem, line block)
    block_starts: dict[str, list[int]] = field(default_factory=dict)  # first block line -> blocks
    line_positions: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)  # per problem: " w1 w2 ... " task text
    text_starts: dict[int, list[int]] = field(default_factory=dict)  # first-words hash -> problems
    _memo: dict[str, list[tuple[int, str, int, str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, problems: Iterable[Problem], n: int = DEFAULT_N) -> BenchmarkIndex:
        index = cls(problems=list(problems), n=n)
        for pid, problem in enumerate(index.problems):
            full_code, solution = _problem_code(problem)
            lines = _content_lines(full_code)
            index.lines.append(lines)
            for pos, line in enumerate(lines):
                index.line_positions.setdefault(line, []).append((pid, pos))
            for block in _exact_blocks_of(lines, _content_lines(solution) if solution else lines):
                index.block_starts.setdefault(block[0], []).append(len(index.blocks))
                index.blocks.append((pid, block))
            tokens = [tok for line in lines for tok in line.split(" ")]
            for key in _ngrams(tokens, n, MIN_DISTINCTIVE_TOKENS):
                index.code_grams.setdefault(key, []).append(pid)
            words = _words(_problem_text(problem))
            index.texts.append(" " + " ".join(words) + " " if len(words) >= MIN_TEXT_WORDS else "")
            if len(words) >= MIN_TEXT_WORDS:
                index.text_starts.setdefault(hash(tuple(words[:MIN_TEXT_WORDS])), []).append(pid)
            for key in _ngrams(words, n):
                index.text_grams.setdefault(key, []).append(pid)
        return index

    def scan(self, code: str, prompt: str = "") -> list[tuple[int, str, str, int, str]]:
        """Overlaps of one sample: ``(problem index, kind, field, shared n-grams, snippet)``."""
        found: list[tuple[int, str, str, int, str]] = []
        for field_name, text in (("code", code), ("prompt", prompt)):
            if text and text.strip():
                found.extend(
                    (pid, kind, field_name, shared, snippet)
                    for pid, kind, shared, snippet in self._scan_text(text)
                )
        return found

    def _scan_text(self, text: str) -> list[tuple[int, str, int, str]]:
        """``(problem index, kind, shared n-grams, snippet)`` for one text, memoised (prompts and
        duplicated code repeat)."""
        cached = self._memo.get(text)
        if cached is not None:
            return cached
        exact: dict[int, str] = {}
        counts: dict[int, int] = {}
        first: dict[int, str] = {}
        lines = _content_lines(text)
        self._exact_blocks(lines, exact)
        tokens = [tok for line in lines for tok in line.split(" ")]
        self._count(_ngrams(tokens, self.n, MIN_DISTINCTIVE_TOKENS), self.code_grams, counts, first)
        words = _words(text)
        self._exact_text(words, exact)
        self._count(_ngrams(words, self.n), self.text_grams, counts, first)
        result = [
            (
                pid,
                "exact" if pid in exact else "ngram",
                counts.get(pid, 0),
                (exact.get(pid) or first[pid])[:SNIPPET_CHARS],
            )
            for pid in sorted(exact.keys() | counts.keys())
        ]
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        self._memo[text] = result
        return result

    def _exact_blocks(self, lines: list[str], exact: dict[int, str]) -> None:
        for i, line in enumerate(lines):  # a problem's solution block inside the sample
            for block_id in self.block_starts.get(line, ()):
                pid, block = self.blocks[block_id]
                if pid not in exact and lines[i : i + len(block)] == block:
                    exact[pid] = "\n".join(block)
        if len(lines) >= MIN_BLOCK_LINES:  # the whole sample inside a problem's code
            for pid, pos in self.line_positions.get(lines[0], ()):
                if pid not in exact and self.lines[pid][pos : pos + len(lines)] == lines:
                    exact[pid] = "\n".join(lines)

    def _exact_text(self, words: list[str], exact: dict[int, str]) -> None:
        if len(words) < MIN_TEXT_WORDS:
            return
        joined: str | None = None
        for i in range(len(words) - MIN_TEXT_WORDS + 1):
            for pid in self.text_starts.get(hash(tuple(words[i : i + MIN_TEXT_WORDS])), ()):
                if pid in exact:
                    continue
                joined = joined or " " + " ".join(words) + " "
                if self.texts[pid] in joined:
                    exact[pid] = self.texts[pid].strip()

    @staticmethod
    def _count(
        grams: dict[int, str], table: dict[int, list[int]], counts: dict[int, int], first: dict[int, str]
    ) -> None:
        for key, text in grams.items():
            for pid in table.get(key, ()):
                counts[pid] = counts.get(pid, 0) + 1
                first.setdefault(pid, text)


def _exact_blocks_of(full: list[str], solution: list[str]) -> list[list[str]]:
    """The line blocks of a problem whose presence in a sample is an exact match: its solution
    (≥ :data:`MIN_BLOCK_LINES` lines) and its whole code (def line included, so specific even
    when short: ≥ 2 lines and :data:`MIN_FULL_TOKENS` tokens)."""
    blocks = [solution] if len(solution) >= MIN_BLOCK_LINES else []
    tokens = sum(len(line.split(" ")) for line in full)
    if len(full) >= 2 and tokens >= MIN_FULL_TOKENS and full not in blocks:
        blocks.append(full)
    return blocks


def _problem_code(problem: Problem) -> tuple[str, str]:
    """(the problem's reference code in full, its solution part alone or "" if it is the same)."""
    if problem.benchmark.startswith("humaneval"):
        return problem.prompt + problem.canonical_solution, problem.canonical_solution
    return problem.canonical_solution, ""


def _problem_text(problem: Problem) -> str:
    """The task text: HumanEval's prompt (signature + docstring), MBPP's description."""
    return problem.prompt


# --------------------------------------------------------------------------- entry points


@dataclass(frozen=True)
class Sample:
    """A sample to check: its code, and the prompt it answered (may be empty)."""

    sample_id: str
    task_id: str
    code: str
    prompt: str = ""


def _as_sample(sample: Sample | Mapping[str, Any]) -> Sample:
    if isinstance(sample, Sample):
        return sample
    prompt = sample.get("prompt")
    return Sample(
        sample_id=str(sample["sample_id"]),
        task_id=str(sample.get("task_id", "")),
        code=sample.get("code") or "",
        prompt=prompt if isinstance(prompt, str) else "",
    )


def _index_of(problems: Sequence[Problem] | BenchmarkIndex, n: int) -> BenchmarkIndex:
    if isinstance(problems, BenchmarkIndex):
        if problems.n != n:
            raise ValueError(f"index built for n={problems.n}, asked for n={n}")
        return problems
    return BenchmarkIndex.build(problems, n)


def find_overlaps(
    samples: Iterable[Sample | Mapping[str, Any]],
    problems: Sequence[Problem] | BenchmarkIndex,
    n: int = DEFAULT_N,
) -> list[Match]:
    """Every overlap of ``samples`` (``Sample`` or mappings with sample_id, task_id, code,
    optional prompt) with ``problems`` (or a prebuilt :class:`BenchmarkIndex`): one
    :class:`Match` per sample, problem and field, ``exact`` where an exact overlap exists."""
    index = _index_of(problems, n)
    matches: list[Match] = []
    for raw in samples:
        sample = _as_sample(raw)
        for pid, kind, field_name, shared, snippet in index.scan(sample.code, sample.prompt):
            problem = index.problems[pid]
            matches.append(
                Match(
                    sample_id=sample.sample_id,
                    task_id=sample.task_id,
                    benchmark=problem.benchmark,
                    problem_id=problem.task_id,
                    kind=kind,
                    field=field_name,
                    shared_ngrams=shared,
                    snippet=snippet,
                )
            )
    return matches


def decontaminate(
    samples: pd.DataFrame, problems: Sequence[Problem] | BenchmarkIndex, n: int = DEFAULT_N
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split ``samples`` (columns sample_id, task_id, code, optional prompt) into (kept, dropped,
    audit): a row is dropped when it has any match; the audit has one row per match
    (:data:`AUDIT_COLUMNS`). kept and dropped partition the input rows, in input order."""
    missing = {"sample_id", "code"} - set(samples.columns)
    if missing:
        raise ValueError(f"samples lack column(s) {sorted(missing)}")
    index = _index_of(problems, n)
    has_prompt = "prompt" in samples.columns
    has_task = "task_id" in samples.columns
    hit = [False] * len(samples)
    rows: list[dict[str, Any]] = []
    for pos, record in enumerate(samples.to_dict("records")):
        code = record["code"] if isinstance(record["code"], str) else ""
        prompt = record["prompt"] if has_prompt and isinstance(record["prompt"], str) else ""
        for pid, kind, field_name, shared, snippet in index.scan(code, prompt):
            hit[pos] = True
            problem = index.problems[pid]
            rows.append(
                {
                    "sample_id": str(record["sample_id"]),
                    "task_id": str(record["task_id"]) if has_task else "",
                    "benchmark": problem.benchmark,
                    "problem_id": problem.task_id,
                    "kind": kind,
                    "field": field_name,
                    "shared_ngrams": shared,
                    "snippet": snippet,
                }
            )
    mask = pd.Series(hit, index=samples.index, dtype=bool)
    audit = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS)).astype({"shared_ngrams": "int64"})
    return samples[~mask], samples[mask], audit
