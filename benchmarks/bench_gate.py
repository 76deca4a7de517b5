"""Gate throughput: a generated batch through layers 1-8, against a naive one-interpreter-per-check harness.

    .venv/bin/python benchmarks/bench_gate.py [--count 2000] [--seed 1] [--jobs N] [--naive 24]

1. Generates the batch with ``dpo-assets generate``'s defaults (an autopilot-like mix, see
   ``dpo_assets.corpus.generate.Mix``), or reads ``--input FILE``.
2. Runs the gate over all of it as ``dpo-assets gate`` does (fork-server sandbox pool, ``--jobs``
   candidates at a time): candidates/s overall and per layer, the funnel, CPU seconds.
3. Side by side, in the same run: ``--naive`` candidates drawn evenly from the batch go through
   the same gate code twice, once on the sandbox pool and once on
   :class:`benchmarks.naive_executor.NaiveExecutor` (a fresh interpreter for every check, with the
   same concurrency), and must get the same verdicts; the speed-up is the ratio of their rates.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.naive_executor import NaiveExecutor
from dpo_assets import paths
from dpo_assets.corpus.expected import confusion, expected_label, load_equivalent_mutants
from dpo_assets.corpus.generate import generate_batch, read_corpus, read_labels
from dpo_assets.gate.pipeline import LayerResult, LayerSpec, Verdict, certify
from dpo_assets.intake.validate import LineResult, intake_lines
from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.forkserver import SandboxPool
from dpo_assets.tasks.catalog import task_ids


def cpu_seconds(pool: SandboxPool) -> float:
    """CPU time of this process and of the pool's fork servers with their (reaped) sandboxes."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    total = me.ru_utime + me.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    for member in pool.members:
        if member.server_pid is not None:
            fields = Path(f"/proc/{member.server_pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
    return total


def load_batch(args: argparse.Namespace) -> tuple[list[LineResult], dict[str, str | None]]:
    """The batch's intake results and each sample's expected label (when its lineage says)."""
    if args.input is not None:
        data = args.input.read_bytes()
        records = [json.loads(line) for line in data.splitlines() if line.strip()]
    else:
        seeds, _ = read_corpus(paths.bundled_dir())
        records = generate_batch(seeds, args.count, args.seed, labels=read_labels(paths.labels_dir()))
        data = "".join(json.dumps(r) + "\n" for r in records).encode()
    equivalents = load_equivalent_mutants()
    expected = {
        r["sample_id"]: expected_label(r, equivalents)
        for r in records
        if isinstance(r, dict) and isinstance(r.get("sample_id"), str) and "task_id" in r and "code" in r
    }
    lines = intake_lines([(str(args.input or "generated"), data)], set(task_ids()).__contains__)
    return list(lines), expected


def timed_certify(samples: Sequence, executor: Executor, jobs: int) -> tuple[list[Verdict], list[tuple]]:
    """certify() with per-layer wall time: ([verdicts], [(spec, in, passed, seconds)])."""
    layers: list[tuple] = []
    clock = [time.perf_counter()]

    def on_result(spec: LayerSpec, result: LayerResult) -> None:
        now = time.perf_counter()
        rows_in = len(result.survivors) + len(result.rejections)
        layers.append((spec, rows_in, len(result.survivors), now - clock[0]))
        clock[0] = now

    verdicts = certify(samples, executor, workers=jobs, on_result=on_result)
    return verdicts, layers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=None, help="raw-sample JSONL (default: generate)")
    parser.add_argument("--count", type=int, default=2000, help="candidates to generate (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--jobs", type=int, default=(os.cpu_count() or 1) + 2,
                        help="candidates at a time (default: CPUs + 2, as dpo-assets gate)")  # fmt: skip
    parser.add_argument("--naive", type=int, default=24, help="candidates for the side-by-side (default 24)")
    args = parser.parse_args()

    lines, expected = load_batch(args)
    samples = [r.sample for r in lines if r.sample is not None]
    print(f"batch: {len(samples)} candidates, {len(lines) - len(samples)} rejected at intake; "
          f"cpus {os.cpu_count()}, jobs {args.jobs}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip

    with SandboxPool(size=args.jobs) as pool:
        for member in pool.members:
            member.start()  # start-up is not part of the throughput
        cpu, started = cpu_seconds(pool), time.perf_counter()
        verdicts, layers = timed_certify(samples, pool, args.jobs)
        wall, cpu = time.perf_counter() - started, cpu_seconds(pool) - cpu

        print(f"\n{'layer':<16} {'in':>6} {'passed':>7} {'seconds':>8} {'cand/s':>8}")
        for spec, rows_in, passed, seconds in layers:
            rate = rows_in / seconds if seconds else float("inf")
            print(f"{spec.number} {spec.name:<14} {rows_in:>6} {passed:>7} {seconds:>8.1f} {rate:>8.1f}")
        certified = sum(v.certified for v in verdicts)
        rate = len(samples) / wall
        total = f"{'all 8 layers':<16} {len(samples):>6} {certified:>7} {wall:>8.1f} {rate:>8.1f}"
        print(f"{total}   (CPU {cpu:.0f} s: {1000 * cpu / len(samples):.0f} ms per candidate)")

        labelled = [
            (v.task_id, expected[v.sample_id], v.certified) for v in verdicts if expected.get(v.sample_id)
        ]
        if labelled:
            table = confusion(labelled)
            wrong = f"{table.false_certifications} false certifications, "
            wrong += f"{table.false_rejections} false rejections"
            print(f"\nexpected labels from lineage for {len(labelled)} candidates: {wrong}")
            print(table.markdown())

        if args.naive <= 0:
            return
        step = max(1, len(samples) // args.naive)
        subset = samples[::step][: args.naive]
        started = time.perf_counter()
        fast, _ = timed_certify(subset, pool, args.jobs)
        fast_wall = time.perf_counter() - started
    started = time.perf_counter()
    naive, _ = timed_certify(subset, NaiveExecutor(), args.jobs)
    naive_wall = time.perf_counter() - started
    fast_rate, naive_rate = len(subset) / fast_wall, len(subset) / naive_wall
    same = [(f.certified, f.failed_layer) for f in fast] == [(n.certified, n.failed_layer) for n in naive]
    print(f"\nside by side on {len(subset)} candidates (every {step}th):")
    print(f"  fork-server sandbox pool      {fast_wall:>7.1f} s  {fast_rate:>7.2f} cand/s")
    print(f"  one interpreter per check     {naive_wall:>7.1f} s  {naive_rate:>7.2f} cand/s")
    print(f"  speed-up {fast_rate / naive_rate:.1f}x; same verdicts: {'yes' if same else 'NO'}")
    if not same:
        for f, n in zip(fast, naive):
            if (f.certified, f.failed_layer) != (n.certified, n.failed_layer):
                print(f"    {f.sample_id}: pool {f.failed_layer} {f.reason[:80]!r}")
                print(f"    {' ' * len(f.sample_id)}  naive {n.failed_layer} {n.reason[:80]!r}")


if __name__ == "__main__":
    main()
