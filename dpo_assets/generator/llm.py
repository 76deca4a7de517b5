"""Implement → test → repair with a chat model: raw samples with real pytest tracebacks.

For each task and each of ``batch_size`` slots the model is asked for an implementation (the
task's prompt). The code is run against the task's pytest suite in the sandbox and recorded
(origin ``llm:<backend>:<model>:implement``). When the suite fails with a pytest report, the
model is shown that module and report in the task's repair prompt (the same text
``Task.prompt(broken_code, traceback)`` renders for repair tasks, as DPO pairs do) and its
reply is recorded with ``broken_code`` and ``traceback`` (origin ``...:repair``). Replies
without code, duplicates and per-prompt HTTP errors are counted in the report, never lost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dpo_assets.generator.client import ChatClient, ChatError, HTTPStatusError
from dpo_assets.generator.extract import extract_code
from dpo_assets.generator.settings import LLMGeneratorSettings
from dpo_assets.intake.validate import normalized_code
from dpo_assets.sample_ids import default_sample_id
from dpo_assets.sandbox.executor import Executor
from dpo_assets.sandbox.pytest_runner import run_suite
from dpo_assets.tasks import Task, get_task

Progress = Callable[[int, int], None]
PROMPT_ERRORS = frozenset({400, 413, 422})  # this prompt was refused (too long, ...): skip, go on
FAILED_REPORT = (1, 2)  # pytest exit codes with a report of failing tests (or a collection error)


@dataclass
class TaskCounts:
    """What happened for one task."""

    requests: int = 0  # HTTP attempts, retries included
    retries: int = 0
    implementations: int = 0  # implementation records written
    failing: int = 0  # ... of which failed their suite
    repairs: int = 0  # repair records written
    empty_replies: int = 0  # replies with no code (implement or repair)
    duplicates: int = 0  # code already produced for this task
    request_errors: int = 0  # prompts the server refused (HTTP 400/413/422)
    unrepairable: int = 0  # failing without a pytest report (timeout, crash): not sent for repair

    def add(self, other: TaskCounts) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class GenerationReport:
    """Counts per task id, and their totals."""

    per_task: dict[str, TaskCounts] = field(default_factory=dict)

    @property
    def totals(self) -> TaskCounts:
        total = TaskCounts()
        for counts in self.per_task.values():
            total.add(counts)
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "totals": dataclasses.asdict(self.totals),
            "per_task": {t: dataclasses.asdict(c) for t, c in self.per_task.items()},
        }

    def summary(self) -> str:
        t = self.totals
        return (
            f"{t.implementations} implementations ({t.failing} failing), {t.repairs} repairs, "
            f"{t.empty_replies} empty replies, {t.duplicates} duplicates, {t.request_errors} refused, "
            f"{t.requests} requests ({t.retries} retries)"
        )


class GenerationAborted(RuntimeError):
    """The server failed for good mid-batch; ``records`` and ``report`` hold what was made."""

    def __init__(self, cause: ChatError, records: list[dict], report: GenerationReport) -> None:
        super().__init__(f"stopped after {len(records)} record(s): {cause}")
        self.cause, self.records, self.report = cause, records, report


def repair_prompt(task: Task, broken_code: str, traceback: str) -> str:
    """The prompt that shows ``broken_code`` and its pytest ``traceback`` (the repair-task text)."""
    return task.prompt(broken_code, traceback)


class _TaskRun:
    """The slots of one task: asks, tests, records (state shared by its implement and repair steps)."""

    def __init__(
        self, settings: LLMGeneratorSettings, client: ChatClient, executor: Executor, task: Task
    ) -> None:
        self.settings, self.client, self.executor, self.task = settings, client, executor, task
        self.counts = TaskCounts()
        self.records: list[dict] = []
        self.seen: set[str] = set()

    def slot(self) -> None:
        task = self.task
        code = self._ask(task.prompt())
        if code is None:
            return
        shown = {}  # what the prompt showed: the default broken module of a repair task
        if task.is_repair:
            shown = {"broken_code": task.broken_source, "traceback": task.broken_traceback}
        report = run_suite(self.executor, code, task.suite_source)
        passed = report["exit_code"] == 0
        record = self._record(code, "implement", suite_passed=passed, **shown)
        self.counts.implementations += 1
        if passed:
            return
        self.counts.failing += 1
        if report["exit_code"] not in FAILED_REPORT:
            self.counts.unrepairable += 1
            return
        if not self.settings.repair:
            return
        traceback = str(report["output"])
        fixed = self._ask(repair_prompt(task, code, traceback))
        if fixed is not None:
            parent = record["sample_id"]
            self._record(fixed, "repair", broken_code=code, traceback=traceback, parent_id=parent)
            self.counts.repairs += 1

    def _ask(self, prompt: str) -> str | None:
        """New code for ``prompt``; None (counted) for no code, a duplicate or a refused prompt."""
        settings = self.settings
        before = (self.client.requests, self.client.retried)
        try:
            reply = self.client.chat(
                [{"role": "user", "content": prompt}],
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
            )
        except HTTPStatusError as exc:
            if exc.status not in PROMPT_ERRORS:
                raise
            self.counts.request_errors += 1
            return None
        finally:
            self.counts.requests += self.client.requests - before[0]
            self.counts.retries += self.client.retried - before[1]
        code = extract_code(reply)
        if code is None:
            self.counts.empty_replies += 1
            return None
        key = normalized_code(code)
        if key in self.seen:
            self.counts.duplicates += 1
            return None
        self.seen.add(key)
        return code

    def _record(self, code: str, step: str, **extra: Any) -> dict:
        task_id = self.task.task_id
        record = {
            "task_id": task_id,
            "code": code,
            "sample_id": default_sample_id(task_id, code),
            "origin": f"{self.settings.origin_prefix}:{step}",
            **{k: v for k, v in extra.items() if v is not None},
        }
        self.records.append(record)
        return record


def generate_llm_batch(
    settings: LLMGeneratorSettings,
    executor: Executor,
    *,
    progress: Progress | None = None,
    client: ChatClient | None = None,
) -> tuple[list[dict], GenerationReport]:
    """Raw-sample records (each implementation, followed by its repair when it failed) and the report.

    ``settings`` must be valid (:meth:`LLMGeneratorSettings.validate`). ``progress(done, total)``
    is called after every slot. A server failure that retries cannot fix raises
    :class:`GenerationAborted` carrying the records and report so far.
    """
    client = client or settings.client()
    tasks = [get_task(t) for t in settings.task_ids()]
    total = len(tasks) * settings.batch_size
    records: list[dict] = []
    report = GenerationReport()
    done = 0
    for task in tasks:
        run = _TaskRun(settings, client, executor, task)
        report.per_task[task.task_id] = run.counts
        try:
            for _ in range(settings.batch_size):
                run.slot()
                done += 1
                if progress is not None:
                    progress(done, total)
        except ChatError as exc:
            raise GenerationAborted(exc, records + run.records, report) from exc
        records += run.records
    return records, report
