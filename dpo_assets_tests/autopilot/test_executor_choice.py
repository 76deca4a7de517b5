"""$DPO_ASSETS_EXECUTOR picks the executor; $DPO_ASSETS_SANDBOX_JOBS sizes each step's sandboxes."""

from __future__ import annotations

import dagster as dg
import pytest

from dpo_assets.defs.executor import select_executor
from dpo_assets.sandbox.concurrency import default_jobs


def test_executor_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DPO_ASSETS_EXECUTOR", raising=False)
    assert select_executor() is dg.multiprocess_executor
    assert select_executor("in_process") is dg.in_process_executor
    with pytest.raises(ValueError, match="use multiprocess, in_process, k8s or celery"):
        select_executor("ray")
    monkeypatch.setenv("DPO_ASSETS_EXECUTOR", "in_process")
    assert select_executor() is dg.in_process_executor


def test_an_executor_whose_package_is_missing_names_it() -> None:
    for name, package in (("k8s", "dagster-k8s"), ("celery", "dagster-celery")):
        try:
            executor = select_executor(name)
        except ImportError as exc:
            assert f"pip install {package}==0.29.27" in str(exc)
        else:
            assert isinstance(executor, dg.ExecutorDefinition)


def test_sandbox_jobs_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPO_ASSETS_SANDBOX_JOBS", "12")
    assert default_jobs() == 12
    for bad in ("0", "many"):
        monkeypatch.setenv("DPO_ASSETS_SANDBOX_JOBS", bad)
        with pytest.raises(ValueError, match="DPO_ASSETS_SANDBOX_JOBS"):
            default_jobs()
