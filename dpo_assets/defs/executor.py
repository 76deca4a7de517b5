"""Which Dagster executor runs the steps: ``$DPO_ASSETS_EXECUTOR`` picks it, run config tunes it.

``multiprocess`` (default, one process per step), ``in_process``, ``k8s`` (``dagster-k8s``'s
``k8s_job_executor``: one pod per step) or ``celery`` (``dagster-celery``'s ``celery_executor``:
steps as tasks on Celery workers). The optional packages are imported only when chosen.
"""

import os

import dagster as dg

EXECUTOR_ENV = "DPO_ASSETS_EXECUTOR"
_OPTIONAL = {
    "k8s": ("dagster_k8s", "k8s_job_executor", "dagster-k8s"),
    "celery": ("dagster_celery", "celery_executor", "dagster-celery"),
}


def select_executor(name: str | None = None) -> dg.ExecutorDefinition:
    """The executor named by ``name`` (default ``$DPO_ASSETS_EXECUTOR``, else multiprocess)."""
    name = (name if name is not None else os.environ.get(EXECUTOR_ENV, "")).strip() or "multiprocess"
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "in_process":
        return dg.in_process_executor
    if name not in _OPTIONAL:
        raise ValueError(f"{EXECUTOR_ENV}={name!r}: use multiprocess, in_process, k8s or celery")
    module_name, attribute, package = _OPTIONAL[name]
    try:
        module = __import__(module_name)
    except ImportError as exc:
        raise ImportError(
            f"{EXECUTOR_ENV}={name} needs {package}: pip install {package}==0.29.27 (the release that "
            "matches dagster 1.13.27)"
        ) from exc
    return getattr(module, attribute)
