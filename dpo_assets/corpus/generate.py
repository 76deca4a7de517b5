"""Expand the bundled corpus into a nightly-scale batch of candidates (``dpo-assets generate``).

Each generated candidate derives from one seed sample by a chain of operators:

* ``rewrite:<op>[+<op>...]`` - semantics-preserving rewrites (:mod:`.rewrites`);
* ``mutation:<op>[+<op>...]`` - one defect-injecting mutation (:mod:`.mutations`),
  optionally followed by rewrites that disguise it.

The batch is balanced round-robin over the tasks present, holds no two candidates with the
same ``(task_id, normalized code)`` (nor one equal to a seed), and is fully determined by
``seed``. With parent labels, each task's slots follow an autopilot-like mix (see
:class:`Mix`): a small share of *clean* rewrites of correct parents (the candidates that
should certify), mutations (mostly of correct parents: near misses), and *disguised*
rewrites of broken or reward-hacking parents. Without labels: 55 % rewrites, 45 % mutations.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import json
import os
import random
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dpo_assets.corpus.mutations import TREE_MUTATIONS
from dpo_assets.corpus.rewrites import CONTENT_REWRITES, TREE_REWRITES, normalize, render
from dpo_assets.sample_ids import default_sample_id

REWRITE_SHARE = 0.55  # without labels
MAX_DEPTH = 3  # at most this many operators per candidate
ATTEMPTS_PER_SLOT = 40
ATTEMPTS_PER_DEPTH = 8  # failed attempts before a slot tries one more operator
EXHAUSTED_AFTER = 3  # consecutive failed slots after which a task leaves the rotation
PREFER_CORRECT = 0.75  # chance that a mutation starts from a parent labelled ``correct``
PROGRESS_EVERY = 250
CARRIED_KEYS = ("broken_code", "traceback")

Progress = Callable[[int, int], None]


@dataclass
class _Seed:
    sample: dict
    parent_id: str
    label: str | None


@dataclass
class _TaskPool:
    seeds: list[_Seed]
    slots: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # slots filled per kind
    failures: int = 0
    # seed index -> operators known not to apply to that seed itself
    inapplicable: dict[int, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Mix:
    """Shares of a labelled batch's slot kinds (the rest are disguised defective rewrites).

    The default mirrors the autopilot run this project was built after, where most candidates
    were wrong and 116 of 2,439 (4.8 %) survived certification: 4 % clean rewrites, plus the
    mutants that happen to be equivalent to their parent, certify (116 of 2,000 with seed 1).
    """

    clean: float = 0.04  # rewrites of correct parents
    mutation: float = 0.45  # mutations, of a correct parent with PREFER_CORRECT

    def __post_init__(self) -> None:
        if not (0 <= self.clean <= 1 and 0 <= self.mutation <= 1 and self.clean + self.mutation <= 1):
            raise ValueError(f"mix shares must lie in [0, 1] and sum to at most 1, got {self}")

    def shares(self) -> dict[str, float]:
        return {"clean": self.clean, "mutation": self.mutation, "disguise": 1 - self.clean - self.mutation}


UNLABELLED_SHARES = {"clean": 0.0, "mutation": 1.0 - REWRITE_SHARE, "disguise": 0.0, "rewrite": REWRITE_SHARE}


def _kind_of_slot(counts: Mapping[str, int], shares: Mapping[str, float]) -> str:
    """Deterministic interleave: the kind furthest behind its share gets the next slot."""
    total = sum(counts.values()) + 1
    return max(shares, key=lambda kind: (total * shares[kind] - counts.get(kind, 0), shares[kind]))


def _fallbacks(kind: str) -> tuple[str, ...]:
    """Kinds to try when ``kind`` yields nothing for a task (its parents are used up)."""
    order = {"clean": ("mutation", "disguise"), "disguise": ("mutation", "clean"),
             "mutation": ("disguise", "clean", "rewrite"), "rewrite": ("mutation",)}  # fmt: skip
    return order[kind]


def generate_batch(
    seed_samples: list[dict],
    target: int,
    seed: int,
    *,
    labels: Mapping[str, str] | None = None,
    mix: Mix | None = None,
    progress: Progress | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> list[dict]:
    """Derive up to ``target`` new, distinct candidates from ``seed_samples``.

    ``labels`` (sample id → ``correct``/``broken``/``hacking``) is optional: when given, slots
    follow ``mix`` (default :class:`Mix`) and each candidate records ``parent_label``.
    Returns fewer than ``target`` only when the seeds cannot yield that many distinct
    programs even with chains of :data:`MAX_DEPTH` operators.
    """
    rng = random.Random(seed)
    pools: dict[str, _TaskPool] = {}
    seen: set[tuple[str, str]] = set()
    for sample in seed_samples:
        task_id, code = sample.get("task_id"), sample.get("code")
        if not isinstance(task_id, str) or not isinstance(code, str):
            continue
        norm = normalize(code)
        if norm is None or not _compiles(code):
            continue  # a seed that does not compile cannot yield a compiling candidate
        parent_id = sample.get("sample_id")
        if not isinstance(parent_id, str) or not parent_id:
            parent_id = default_sample_id(task_id, code)
        label = (labels or {}).get(parent_id) or sample.get("label")
        if (task_id, norm) in seen:
            continue
        seen.add((task_id, norm))
        pools.setdefault(task_id, _TaskPool([])).seeds.append(_Seed(sample, parent_id, label))

    labelled = any(s.label is not None for pool in pools.values() for s in pool.seeds)
    shares = (mix or Mix()).shares() if labelled else UNLABELLED_SHARES
    out: list[dict] = []
    active = sorted(pools)
    while len(out) < target and active:
        for task_id in list(active):
            if len(out) >= target:
                break
            pool = pools[task_id]
            kind = _kind_of_slot(pool.kinds, shares)
            record = _make_candidate(task_id, pool, kind, rng, seen, seed, len(out))
            for other in _fallbacks(kind):  # this kind is used up for now: another fills the slot
                if record is not None:
                    break
                if shares.get(other, 0) > 0:
                    record = _make_candidate(task_id, pool, other, rng, seen, seed, len(out))
            if record is None:
                pool.failures += 1
                if pool.failures >= EXHAUSTED_AFTER:
                    active.remove(task_id)
                continue
            pool.failures = 0
            pool.slots += 1
            pool.kinds[kind] += 1
            out.append(record)
            if progress is not None and (len(out) % progress_every == 0 or len(out) == target):
                progress(len(out), target)
    return out


def _compiles(code: str) -> bool:
    try:
        compile(code, "<candidate>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _pick_parent(pool: _TaskPool, kind: str, rng: random.Random) -> int | None:
    """A seed index for a slot of ``kind``; None when the task has no parent of that kind."""
    correct = [i for i, s in enumerate(pool.seeds) if s.label == "correct"]
    if kind == "clean":
        return rng.choice(correct) if correct else None
    if kind == "disguise":
        defective = [i for i, s in enumerate(pool.seeds) if s.label is not None and s.label != "correct"]
        return rng.choice(defective) if defective else None
    if kind == "mutation" and correct and rng.random() < PREFER_CORRECT:
        return rng.choice(correct)
    return rng.randrange(len(pool.seeds))


def _make_candidate(
    task_id: str,
    pool: _TaskPool,
    kind: str,
    rng: random.Random,
    seen: set[tuple[str, str]],
    seed: int,
    index: int,
) -> dict | None:
    """One new candidate of ``kind`` for ``task_id``, or None when none was found.

    Operators are chained on one parsed tree (unparsed once at the end). The chain length
    is drawn (mostly one operator) and grows by one every :data:`ATTEMPTS_PER_DEPTH` failed
    attempts, so seeds whose single-operator variants are used up get 2-3 operator combos.
    """
    weights = (0.6, 0.3, 0.1) if kind == "mutation" else (0.5, 0.35, 0.15)
    base = rng.choices((1, 2, 3), weights=weights)[0]
    for attempt in range(ATTEMPTS_PER_SLOT):
        depth = min(MAX_DEPTH, base + attempt // ATTEMPTS_PER_DEPTH)
        parent_index = _pick_parent(pool, kind, rng)
        if parent_index is None:
            return None
        parent = pool.seeds[parent_index]
        tree = ast.parse(parent.sample["code"])
        skip = pool.inapplicable.setdefault(parent_index, set())
        operators: list[str] = []
        detail = None
        if kind == "mutation":
            for name in rng.sample(list(TREE_MUTATIONS), len(TREE_MUTATIONS)):
                if name in skip:
                    continue
                edit = TREE_MUTATIONS[name](tree, rng)
                if edit is None:
                    skip.add(name)
                    continue
                detail = edit[1]
                operators.append(f"mutation:{name}")
                break
            else:
                continue  # no mutation applies to this parent
        for name in rng.sample(CONTENT_REWRITES, len(CONTENT_REWRITES)):
            if len(operators) >= depth:
                break
            at_seed = not operators  # the tree is still the parent's: cache what does not apply
            if at_seed and name in skip:
                continue
            if TREE_REWRITES[name](tree, rng):
                operators.append(f"rewrite:{name}")
            elif at_seed:
                skip.add(name)
        if not operators:
            continue
        try:
            code = render(tree)
        except (ValueError, RecursionError):
            continue
        norm = code[:-1]  # render() is ast.unparse + newline: already normalized
        if (task_id, norm) in seen or not _compiles(code):
            continue
        seen.add((task_id, norm))
        return _record(task_id, code, parent, operators, detail, seed, index)
    return None


def _record(
    task_id: str, code: str, parent: _Seed, operators: list[str], detail: str | None, seed: int, index: int
) -> dict:
    kind = "mutation" if operators[0].startswith("mutation:") else "rewrite"
    ops = "+".join(op.split(":", 1)[1] for op in operators)
    digest = hashlib.sha256(f"{task_id}\0{code}".encode()).hexdigest()[:8]
    record: dict = {
        "task_id": task_id,
        "code": code,
        "sample_id": f"gen-{seed}-{index:05d}-{digest}",
        "origin": f"{kind}:{ops}",
        "parent_id": parent.parent_id,
        "operators": operators,
    }
    if detail is not None:
        record["mutation_detail"] = detail
    if parent.label is not None:
        record["parent_label"] = parent.label
    for key in CARRIED_KEYS:
        if key in parent.sample:
            record[key] = parent.sample[key]
    return record


# ---------------------------------------------------------------------------- I/O and CLI


def read_corpus(corpus: Path) -> tuple[list[dict], int]:
    """All raw samples of ``corpus/*.jsonl`` (sorted by file name), and the bad line count."""
    samples: list[dict] = []
    bad = 0
    for path in sorted(corpus.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    bad += 1
                    continue
                if (
                    isinstance(record, dict)
                    and isinstance(record.get("task_id"), str)
                    and isinstance(record.get("code"), str)
                ):
                    samples.append(record)
                else:
                    bad += 1
    return samples, bad


def read_labels(labels_dir: Path | None) -> dict[str, str]:
    """``sample_id → label`` from ``labels_dir/*.jsonl`` (missing folder: empty)."""
    labels: dict[str, str] = {}
    if labels_dir is None or not labels_dir.is_dir():
        return labels
    for path in sorted(labels_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("sample_id"), str):
                    label = record.get("label")
                    if isinstance(label, str):
                        labels[record["sample_id"]] = label
    return labels


def write_jsonl_atomic(path: Path, records: Iterable[Mapping]) -> int:
    """Write ``records`` as JSONL to ``path`` all-or-nothing (temp file + ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return count


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``dpo-assets generate``."""
    parser.add_argument(
        "--corpus", type=Path, default=None, help="folder of seed JSONL (default data/bundled)"
    )
    parser.add_argument(
        "--labels", type=Path, default=None, help="labels folder (default: beside the corpus)"
    )
    parser.add_argument("--count", type=int, default=2000, help="candidates to generate (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--clean-share", type=float, default=Mix.clean, metavar="F",
        help=f"share of rewrites of correct parents (should certify; default {Mix.clean})",
    )  # fmt: skip
    parser.add_argument(
        "--mutation-share", type=float, default=Mix.mutation, metavar="F",
        help=f"share of defect-injecting mutations (default {Mix.mutation}); the rest are "
        "rewrites of broken or reward-hacking parents",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="output JSONL file")
    from dpo_assets.generator.command import add_llm_arguments

    add_llm_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``dpo-assets generate``: 0 on success, 1 if short of ``--count`` (or an LLM batch stopped
    early), 2 on bad input (see :func:`dpo_assets.generator.command.run_generate`)."""
    from dpo_assets.generator.command import run_generate

    return run_generate(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point (``python -m dpo_assets.corpus.generate``)."""
    parser = argparse.ArgumentParser(prog="dpo-assets generate", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
