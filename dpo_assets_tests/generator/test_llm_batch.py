"""Implement → test → repair against a scripted server and the real sandbox (cheapest tasks only)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dpo_assets.corpus.tracebacks import suite_traceback
from dpo_assets.generator.batch import write_batch
from dpo_assets.generator.client import UnreachableError
from dpo_assets.generator.llm import GenerationAborted, generate_llm_batch, repair_prompt
from dpo_assets.generator.settings import LLMGeneratorSettings, OfflineSettings, SettingsError
from dpo_assets.intake import intake_lines, is_known_task
from dpo_assets.tasks import get_task

CHOLESKY = get_task("numerical_linear_algebra/cholesky")
SYMMETRY_CHECK = (
    "    if not float(np.max(np.abs(M - M.T))) <= SYMMETRY_RTOL * scale:\n"
    '        raise ValueError("A is not symmetric")\n'
)
GOOD = CHOLESKY.reference_source
BROKEN = GOOD.replace(SYMMETRY_CHECK, "")
REPAIRED = GOOD.replace('"""Reference implementation', '"""Repaired implementation')


def fenced(code: str) -> str:
    return f"Sure, here it is:\n\n```python\n{code}```\n\nThis handles every case."


def settings(url: str, backend: str = "ollama", **kw) -> LLMGeneratorSettings:
    kw.setdefault("tasks", (CHOLESKY.task_id,))
    return LLMGeneratorSettings(backend=backend, model="coder:7b", base_url=url, backoff=0.0, **kw).validate()


def intake(records: list[dict]) -> list:
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    return list(intake_lines([("batch.jsonl", data)], is_known_task))


@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_implement_test_repair(chat_server, sandbox, backend: str) -> None:
    assert BROKEN != GOOD and REPAIRED != GOOD
    chat_server.reply(fenced(GOOD), fenced(BROKEN), fenced(REPAIRED), "I cannot do that.", fenced(GOOD))
    seen: list[tuple[int, int]] = []
    records, report = generate_llm_batch(
        settings(chat_server.url, backend, batch_size=4), sandbox, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    good, broken, repaired = records
    prefix = f"llm:{backend}:coder:7b"
    assert (good["origin"], broken["origin"], repaired["origin"]) == (
        f"{prefix}:implement", f"{prefix}:implement", f"{prefix}:repair",
    )  # fmt: skip
    assert (good["code"], broken["code"], repaired["code"]) == (GOOD, BROKEN, REPAIRED)
    assert good["suite_passed"] is True and broken["suite_passed"] is False
    assert "broken_code" not in good and "traceback" not in good
    # the repair row shows the failing module and the sandbox's real pytest report on it
    assert repaired["broken_code"] == BROKEN and repaired["parent_id"] == broken["sample_id"]
    assert "test_rejects_asymmetric" in repaired["traceback"] and "DID NOT RAISE" in repaired["traceback"]
    failing = set(re.findall(r"^_+ (test_\S+) _+$", repaired["traceback"], flags=re.M))
    fresh = suite_traceback(sandbox, CHOLESKY, BROKEN)
    assert failing and failing == set(re.findall(r"^_+ (test_\S+) _+$", fresh, flags=re.M))
    # the repair request showed that module and report in the repair-task prompt
    prompts = [r.prompt for r in chat_server.requests]
    assert prompts[0] == prompts[1] == prompts[3] == prompts[4] == CHOLESKY.prompt()
    assert prompts[2] == repair_prompt(CHOLESKY, BROKEN, repaired["traceback"])
    assert BROKEN.strip() in prompts[2] and repaired["traceback"].strip() in prompts[2]
    # every row passes layer 0 together (no duplicate ids or code) and carries its origin
    results = intake(records)
    assert [r.rejection for r in results] == [None, None, None]
    assert [r.sample.origin for r in results] == [r["origin"] for r in records]
    counts = report.per_task[CHOLESKY.task_id]
    assert (counts.requests, counts.retries, counts.implementations, counts.failing) == (5, 0, 2, 1)
    assert (counts.repairs, counts.empty_replies, counts.duplicates, counts.request_errors) == (1, 1, 1, 0)
    assert report.totals == counts


def test_repair_task_rows_carry_the_prompts_broken_module(chat_server, sandbox) -> None:
    task = get_task("pytest_traceback_repair/moving_average")
    chat_server.fail(429, "slow", retry_after="0").reply(fenced(task.broken_source or ""))
    chat_server.fail(500, "hiccup").reply(fenced(task.reference_source))
    records, report = generate_llm_batch(
        settings(chat_server.url, tasks=(task.task_id,), batch_size=1), sandbox
    )
    first, repair = records
    assert first["broken_code"] == task.broken_source and first["traceback"] == task.broken_traceback
    assert repair["broken_code"] == task.broken_source and "test_simple_windows" in repair["traceback"]
    assert chat_server.requests[-1].prompt == task.prompt(task.broken_source, repair["traceback"])
    counts = report.totals
    assert (counts.requests, counts.retries, counts.implementations, counts.failing, counts.repairs) == (
        4, 2, 1, 1, 1,
    )  # fmt: skip


def test_refused_prompt_is_counted_and_a_dead_server_stops_the_batch(chat_server, sandbox, tmp_path) -> None:
    chat_server.fail(400, "context length exceeded").reply(fenced(GOOD)).fail(401, "invalid api key")
    config = settings(chat_server.url, batch_size=3)
    with pytest.raises(GenerationAborted, match=r"stopped after 1 record.*HTTP 401: invalid api key") as info:
        generate_llm_batch(config, sandbox)
    assert [r["code"] for r in info.value.records] == [GOOD]
    assert info.value.report.totals.request_errors == 1
    # write_batch keeps what was made and says why it stopped
    chat_server.fail(400, "context length exceeded").reply(fenced(GOOD)).fail(401, "invalid api key")
    out = tmp_path / "batch.jsonl"
    result = write_batch(config, out, executor=sandbox)
    assert result.written == 1 and result.requested == 3 and "invalid api key" in (result.error or "")
    assert [json.loads(line)["code"] for line in out.read_text().splitlines()] == [GOOD]
    assert result.as_metadata()["request_errors"] == 1


def test_write_batch_unreachable_or_bad_settings_write_nothing(
    dead_url: str, sandbox, tmp_path: Path
) -> None:
    out = tmp_path / "batch.jsonl"
    with pytest.raises(UnreachableError, match=f"cannot reach {dead_url}/api/chat"):
        write_batch(settings(dead_url, retries=0), out, executor=sandbox)
    with pytest.raises(SettingsError, match="batch_size"):
        write_batch(LLMGeneratorSettings("ollama", "m", batch_size=0), out)
    with pytest.raises(SettingsError, match="unknown task"):
        write_batch(LLMGeneratorSettings("ollama", "m", tasks=("nope/nope",)), out)
    with pytest.raises(SettingsError, match="a model is required"):
        write_batch(LLMGeneratorSettings("openai", ""), out)
    with pytest.raises(SettingsError, match="base URL"):
        write_batch(LLMGeneratorSettings("ollama", "m", base_url="localhost:11434"), out)
    with pytest.raises(SettingsError, match="does not exist"):
        write_batch(OfflineSettings(corpus=tmp_path / "nope"), out)
    assert not out.exists()


def test_write_batch_offline_dispatch(tmp_path: Path) -> None:
    out = tmp_path / "offline.jsonl"
    result = write_batch(OfflineSettings(count=30, seed=1), out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert result.backend == "offline" and result.written == len(rows) == 30 and not result.short
    assert result.counts["rewrites"] + result.counts["mutations"] == 30
    assert all(r["origin"].split(":")[0] in ("rewrite", "mutation") for r in rows)
