"""Running untrusted code: the warm fork-server sandbox and its wire format.

``get_sandbox()`` returns the shared, lazily started :class:`SandboxPool`; it is resolved
lazily so ``python -m dpo_assets.sandbox.forkserver`` does not import the module twice.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ForkServerSandbox", "SandboxPool", "get_sandbox"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dpo_assets.sandbox import forkserver

        return getattr(forkserver, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
