"""Scoring speed: HumanEval+ canonical solutions on every plus input, our runner vs evalplus.

    .venv/bin/python benchmarks/bench_score.py [--benchmark humaneval] [--jobs N]
        [--evalplus-python /work/evalplus-venv/bin/python] [--evalplus-parallel N] [--out FILE]

1. Ours, cold: a fresh cache folder (the canonical solutions' references are computed in the
   sandbox first) and a fresh sandbox pool (fork servers started inside the timing).
2. Ours, warm: the references cached, again a fresh pool.
3. evalplus 0.3.1 (``evalplus.evaluate``, installed in its own virtual environment: pass its
   interpreter with ``--evalplus-python`` or ``EVALPLUS_PYTHON``; skipped with a message
   otherwise) on the same samples and the same data file (``HUMANEVAL_OVERRIDE_PATH`` /
   ``MBPP_OVERRIDE_PATH``), cold (fresh ground-truth cache) and warm, timed around its
   ``evaluate()`` call; ``--evalplus-parallel`` workers (default: the CPU count).
4. Per-problem verdicts side by side (a problem passes evalplus when base and plus both pass);
   every difference is listed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dpo_assets.evaldata import problems as evaldata
from dpo_assets.sandbox.concurrency import default_jobs
from dpo_assets.scoring import execute

DATA_FILES = {"humaneval": evaldata.BENCHMARK_FILES[evaldata.HUMANEVAL_PLUS],
              "mbpp": evaldata.BENCHMARK_FILES[evaldata.MBPP_PLUS]}  # fmt: skip
OVERRIDE_VARS = {"humaneval": "HUMANEVAL_OVERRIDE_PATH", "mbpp": "MBPP_OVERRIDE_PATH"}

# Runs inside evalplus' interpreter: time evaluate() itself, then leave at once (evalplus 0.3.1
# starts a non-daemon "stuck checker" thread that sleeps in 20 s steps).
EVALPLUS_DRIVER = """
import json, os, sys, time
from evalplus.evaluate import evaluate
dataset, samples, parallel, report = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
started = time.perf_counter()
evaluate(dataset=dataset, samples=samples, parallel=parallel, i_just_wanna_run=True)
seconds = time.perf_counter() - started
with open(report, "w") as f:
    json.dump({"seconds": seconds}, f)
sys.stdout.flush()
os._exit(0)
"""


def data_dir(args: argparse.Namespace) -> Path:
    found = args.data or os.environ.get(evaldata.ENV_VAR) or evaldata.default_offline_dir()
    if found is None:
        raise SystemExit(f"no benchmark data: pass --data or set {evaldata.ENV_VAR}")
    return Path(found)


def ours(args: argparse.Namespace, samples: dict[str, dict[str, str]], cache: Path) -> tuple[float, list]:
    started = time.perf_counter()
    results = execute.score_completions(
        args.benchmark, samples, plus=True, data_dir=data_dir(args), cache_dir=cache, jobs=args.jobs
    )
    return time.perf_counter() - started, results


def evalplus(
    args: argparse.Namespace, samples_file: Path, work: Path, cache: Path
) -> tuple[float, float, dict[str, bool]]:
    """(seconds in evaluate(), process seconds, {task_id: passed}) of one evalplus run."""
    run_dir = Path(tempfile.mkdtemp(dir=work))  # a new results file: evalplus would ask to overwrite
    samples = run_dir / "samples.jsonl"
    shutil.copy(samples_file, samples)
    report = run_dir / "report.json"
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    env[OVERRIDE_VARS[args.benchmark]] = str(data_dir(args) / DATA_FILES[args.benchmark])
    command = [args.evalplus_python, "-c", EVALPLUS_DRIVER, args.benchmark, str(samples),
               str(args.evalplus_parallel), str(report)]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - started
    if done.returncode != 0 or not report.exists():
        tail = f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        raise SystemExit(f"evalplus failed ({done.returncode}):\n{tail}")
    results = json.loads((run_dir / "samples_eval_results.json").read_text())
    verdicts = {
        task_id: rows[0]["base_status"] == "pass" and rows[0]["plus_status"] == "pass"
        for task_id, rows in results["eval"].items()
    }
    return json.loads(report.read_text())["seconds"], wall, verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--benchmark", choices=execute.BENCHMARKS, default="humaneval")
    parser.add_argument("--data", type=Path, help="benchmark files' folder (default: the offline copies)")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="sandbox slots (default: CPUs + 2)")
    parser.add_argument("--evalplus-python", default=os.environ.get("EVALPLUS_PYTHON"), metavar="PATH")
    parser.add_argument("--evalplus-parallel", type=int, default=os.cpu_count() or 1, metavar="N")
    parser.add_argument("--out", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)

    problems = execute.load_problems(args.benchmark, data_dir(args))
    samples = {
        p.task_id: {"task_id": p.task_id, "solution": p.prompt + p.canonical_solution} for p in problems
    }
    n_inputs = sum(len(execute._inputs(p, plus=True)) for p in problems)
    print(f"{args.benchmark}+: {len(problems)} canonical solutions, {n_inputs} inputs (base + plus), "
          f"{os.cpu_count()} CPUs, {args.jobs} sandbox slots")  # fmt: skip
    report: dict[str, Any] = {"benchmark": args.benchmark, "problems": len(problems), "inputs": n_inputs,
                              "cpus": os.cpu_count(), "jobs": args.jobs}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-score-") as tmp:
        work = Path(tmp)
        cold, _ = ours(args, samples, work / "cache")
        warm, results = ours(args, samples, work / "cache")
        mine = {r.task_id: r.passed for r in results}
        failed = {r.task_id: f"{r.category.value}: {r.detail}" for r in results if not r.passed}
        print(f"ours:     cold {cold:6.1f} s (references computed), warm {warm:6.1f} s; "
              f"{sum(mine.values())}/{len(mine)} pass")  # fmt: skip
        for task_id, why in failed.items():
            print(f"  ours fails {task_id}: {why}")
        report.update(ours_cold_s=round(cold, 2), ours_warm_s=round(warm, 2), ours_passed=sum(mine.values()))
        if not args.evalplus_python or not Path(args.evalplus_python).exists():
            print("evalplus: skipped (no --evalplus-python / EVALPLUS_PYTHON with evalplus 0.3.1; "
                  "install it in its own venv: python3 -m venv /work/evalplus-venv && "
                  "/work/evalplus-venv/bin/pip install evalplus==0.3.1)")  # fmt: skip
        else:
            samples_file = work / "samples.jsonl"
            samples_file.write_text("".join(json.dumps(s) + "\n" for s in samples.values()))
            ep_cache = work / "evalplus-cache"
            ep_cold, ep_cold_wall, _ = evalplus(args, samples_file, work, ep_cache)
            ep_warm, ep_warm_wall, theirs = evalplus(args, samples_file, work, ep_cache)
            print(f"evalplus: cold {ep_cold:6.1f} s (ground truth computed), warm {ep_warm:6.1f} s in "
                  f"evaluate() ({ep_cold_wall:.1f} / {ep_warm_wall:.1f} s as processes); "
                  f"{sum(theirs.values())}/{len(theirs)} pass, "
                  f"--parallel {args.evalplus_parallel}")  # fmt: skip
            print(f"speed-up: cold {ep_cold / cold:.1f}x, warm {ep_warm / warm:.1f}x")
            differ = sorted(t for t in mine if mine[t] != theirs.get(t))
            for task_id in differ:
                print(f"  verdicts differ on {task_id}: ours {'pass' if mine[task_id] else 'fail'}, "
                      f"evalplus {'pass' if theirs.get(task_id) else 'fail'}")  # fmt: skip
            if not differ:
                print("  same verdicts on every problem")
            report.update(
                evalplus_cold_s=round(ep_cold, 2), evalplus_warm_s=round(ep_warm, 2),
                evalplus_cold_process_s=round(ep_cold_wall, 2),
                evalplus_warm_process_s=round(ep_warm_wall, 2),
                evalplus_passed=sum(theirs.values()), evalplus_parallel=args.evalplus_parallel,
                speedup_cold=round(ep_cold / cold, 2), speedup_warm=round(ep_warm / warm, 2), differ=differ,
            )  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
