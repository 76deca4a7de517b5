"""Check the Dagster UI end to end: ``dagster dev`` on loopback, GraphQL, a headless Chromium screenshot.

Run ``python scripts/ui_check.py --screenshot docs/asset-graph.png`` to regenerate the README picture.
The webserver runs on a free loopback port with a throwaway instance (the repository's dagster.yaml
with its folders moved into a temporary directory) and is always torn down, process group and all.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
)
LINEAGE_PATH = "/asset-groups"  # the global asset lineage: every group on one canvas
SMALL_SELECTION = (("raw_sample_files",), ("raw_samples",))


# ---------------------------------------------------------------- dagster dev


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_instance(home: Path, template: Path = REPO_ROOT / "dagster.yaml") -> Path:
    """Copy ``template`` into ``home``, every relative ``base_dir`` made absolute under ``home``."""

    def rebase(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: str(home / value)
                if key == "base_dir" and not Path(value).is_absolute()
                else rebase(value)
                for key, value in node.items()
            }
        return [rebase(item) for item in node] if isinstance(node, list) else node

    config = rebase(yaml.safe_load(template.read_text(encoding="utf-8")))
    target = home / "dagster.yaml"
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return target


def _child_setup() -> None:
    """In the child: SIGINT back to default (a script's children may inherit it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_group(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGINT the whole process group, then SIGKILL it if it is still there after ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers in the group (daemon, code server)
    proc.wait(timeout=timeout)


def wait_until(probe: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    """Call ``probe`` until it returns something truthy; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, ValueError):
            if result := probe():
                return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass(frozen=True)
class DagsterDev:
    """A running ``dagster dev``: its base URL, instance home and log file."""

    url: str
    home: Path
    log: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return graphql(self.url, query, variables)


@contextlib.contextmanager
def dagster_dev(timeout: float = 120.0, env: dict[str, str] | None = None) -> Iterator[DagsterDev]:
    """Start ``dagster dev`` on the repository's workspace.yaml; yield once the code location loaded."""
    with tempfile.TemporaryDirectory(prefix="dpo-ui-") as tmp:
        home = Path(tmp)
        write_instance(home)
        port = free_port()
        log = home / "dagster-dev.log"
        child_env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "DPO_ASSETS_STORAGE": str(home / "runs"),  # materializations stay out of data/runs
            **(env or {}),
        }
        dagster = Path(sys.executable).with_name("dagster")
        argv = [
            str(dagster),
            "dev",
            "-w",
            str(REPO_ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ]
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                argv,
                cwd=home,
                env=child_env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_child_setup,  # dagster dev ignores SIGINT if it arrives ignored
            )
        server = DagsterDev(f"http://127.0.0.1:{port}", home, log)
        try:
            wait_until(lambda: _alive(proc) and _get(f"{server.url}/server_info"), timeout, "the webserver")
            wait_until(lambda: _alive(proc) and _location_loaded(server), timeout, "the code location")
            yield server
        except (TimeoutError, RuntimeError) as exc:
            tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
            raise RuntimeError(f"{exc}\n--- dagster dev log (tail) ---\n{tail}") from exc
        finally:
            stop_group(proc)


def _alive(proc: subprocess.Popen) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"dagster dev exited with code {proc.returncode}")
    return True


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


# ---------------------------------------------------------------- GraphQL


def graphql(base_url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST one GraphQL query; return ``data`` (RuntimeError on GraphQL errors)."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"{base_url}/graphql", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.loads(response.read())
    if payload.get("errors"):
        raise RuntimeError(f"GraphQL errors: {payload['errors']}")
    return payload["data"]


LOCATIONS_QUERY = """
query { workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def _location_loaded(server: DagsterDev) -> bool:
    entries = server.graphql(LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
    for entry in entries:
        if entry["locationOrLoadError"] and entry["locationOrLoadError"]["__typename"] == "PythonError":
            raise RuntimeError(f"code location {entry['name']} failed: {entry['locationOrLoadError']}")
    return bool(entries) and all(entry["loadStatus"] == "LOADED" for entry in entries)


@dataclass(frozen=True)
class AssetInfo:
    """One asset node as the webserver sees it."""

    key: tuple[str, ...]
    group: str
    code_version: str | None
    op_names: tuple[str, ...]
    location: str
    repository: str


ASSETS_QUERY = """
query { assetNodes {
  assetKey { path } groupName opVersion opNames
  repository { name location { name } }
  assetChecksOrError { __typename ... on AssetChecks { checks { name } } }
} }
"""


def asset_nodes(server: DagsterDev) -> dict[tuple[str, ...], AssetInfo]:
    """Every asset node, by asset key path."""
    nodes = server.graphql(ASSETS_QUERY)["assetNodes"]
    return {
        tuple(node["assetKey"]["path"]): AssetInfo(
            key=tuple(node["assetKey"]["path"]),
            group=node["groupName"],
            code_version=node["opVersion"],
            op_names=tuple(node["opNames"]),
            location=node["repository"]["location"]["name"],
            repository=node["repository"]["name"],
        )
        for node in nodes
    }


def asset_checks(server: DagsterDev) -> set[tuple[tuple[str, ...], str]]:
    """Every asset check as ``(asset key path, check name)``."""
    found: set[tuple[tuple[str, ...], str]] = set()
    for node in server.graphql(ASSETS_QUERY)["assetNodes"]:
        checks = node["assetChecksOrError"]
        if checks["__typename"] != "AssetChecks":
            raise RuntimeError(f"checks of {node['assetKey']['path']}: {checks['__typename']}")
        found.update((tuple(node["assetKey"]["path"]), check["name"]) for check in checks["checks"])
    return found


LAUNCH_MUTATION = """
mutation Launch($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) {
  __typename
  ... on LaunchRunSuccess { run { runId } }
  ... on PythonError { message }
  ... on InvalidSubsetError { message }
  ... on RunConfigValidationInvalid { errors { message } }
} }
"""


def launch_assets(server: DagsterDev, keys: Sequence[Sequence[str]], job: str = "__ASSET_JOB") -> str:
    """Launch a run of ``job`` restricted to ``keys``; return its run id."""
    info = asset_nodes(server)[tuple(keys[0])]
    params = {
        "selector": {
            "repositoryLocationName": info.location,
            "repositoryName": info.repository,
            "pipelineName": job,
            "assetSelection": [{"path": list(key)} for key in keys],
        },
        "runConfigData": {},
        "mode": "default",
    }
    result = server.graphql(LAUNCH_MUTATION, {"params": params})["launchPipelineExecution"]
    if result["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launch failed: {result}")
    return result["run"]["runId"]


RUN_QUERY = """
query Run($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }
"""
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


def wait_for_run(server: DagsterDev, run_id: str, timeout: float = 120.0) -> str:
    """Poll until the run reaches a terminal status; return it (SUCCESS, FAILURE or CANCELED)."""

    def status() -> str | None:
        state = server.graphql(RUN_QUERY, {"id": run_id})["runOrError"]["status"]
        return state if state in TERMINAL else None

    return wait_until(status, timeout, f"run {run_id}")


MATERIALIZATION_QUERY = """
query Latest($key: AssetKeyInput!) { assetOrError(assetKey: $key) { __typename ... on Asset {
  assetMaterializations(limit: 1) { runId timestamp }
  assetObservations(limit: 1) { runId timestamp }
} } }
"""


def latest_events(server: DagsterDev, key: Sequence[str]) -> dict[str, str | None]:
    """The run ids of the asset's latest materialization and observation (None where there is none)."""
    asset = server.graphql(MATERIALIZATION_QUERY, {"key": {"path": list(key)}})["assetOrError"]
    if asset["__typename"] != "Asset":
        return {"materialization": None, "observation": None}
    mats, obs = asset["assetMaterializations"], asset["assetObservations"]
    return {
        "materialization": mats[0]["runId"] if mats else None,
        "observation": obs[0]["runId"] if obs else None,
    }


# ---------------------------------------------------------------- Chromium


def find_chromium() -> str | None:
    """``$CHROMIUM``, else the first Chromium/Chrome binary on PATH; None when there is none."""
    if explicit := os.environ.get("CHROMIUM"):
        return shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


class DevTools:
    """A minimal Chrome DevTools Protocol client over one page's websocket."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._next_id = 0

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        self._ws.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:  # skip events until our answer comes
            message = json.loads(self._ws.recv(timeout=timeout))
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


@contextlib.contextmanager
def chromium_page(chromium: str, width: int, height: int, timeout: float = 30.0) -> Iterator[DevTools]:
    """Headless Chromium on a throwaway profile; yield a DevTools client of its blank page."""
    from websockets.sync.client import connect

    with tempfile.TemporaryDirectory(prefix="dpo-chromium-") as profile:
        argv = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_child_setup,
        )
        try:
            active = Path(profile) / "DevToolsActivePort"
            port = wait_until(lambda: _alive(proc) and active.read_text().split()[0], timeout, "Chromium")
            targets = wait_until(
                lambda: [
                    t for t in json.loads(_get(f"http://127.0.0.1:{port}/json/list")) if t["type"] == "page"
                ],
                timeout,
                "a Chromium page",
            )
            with connect(targets[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=timeout) as ws:
                tools = DevTools(ws)
                tools.call("Page.enable")
                tools.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                           deviceScaleFactor=1, mobile=False)  # fmt: skip
                yield tools
        finally:
            stop_group(proc, timeout=10)


TEXT_SCRIPT = "document.body ? document.body.innerText : ''"
GRAPH_TEXT_SCRIPT = (
    "Array.from(document.querySelectorAll('foreignObject, svg text')).map(e => e.textContent).join('\\n')"
)
# Before the app starts: no community pop-up, a left-to-right graph.
PAGE_SETUP_SCRIPT = (
    "localStorage.setItem('communityNux', JSON.stringify('1'));"
    "localStorage.setItem('asset-graph-direction', JSON.stringify('horizontal'));"
)
GRAPH_READY_SCRIPT = "Boolean(document.querySelector('svg[class*=\"svgContainer\"]'))"
GRAPH_SCALE_SCRIPT = """
(() => {
  const svg = document.querySelector('svg[class*="svgContainer"]');
  return svg ? new DOMMatrix(getComputedStyle(svg.parentElement).transform).a : null;
})()
"""


def missing_names(graph_text: str, names: Iterable[str]) -> list[str]:
    """The ``names`` that no node label in ``graph_text`` (one label a line) shows. Long labels are
    cut in the middle (``decontaminat…_pool``): such a label shows the names it is a cut of."""
    labels = [line.strip() for line in graph_text.splitlines() if line.strip()]

    def shown(name: str) -> bool:
        for label in labels:
            if name in label:
                return True
            head, cut, tail = label.partition("…")
            tail = re.match(r"[\w.-]*", tail).group()
            if cut and head and tail and name.startswith(head) and name.endswith(tail):
                return True
        return False

    return [name for name in names if not shown(name)]


def lineage_url(base_url: str, groups: Sequence[str]) -> str:
    """The global asset lineage page with every group expanded (collapsed boxes hide the assets)."""
    expanded = ",".join(f"global@global:{group}" for group in sorted(groups))
    return f"{base_url}{LINEAGE_PATH}?{urllib.parse.urlencode({'expanded': expanded})}"


@dataclass(frozen=True)
class PageShot:
    """A screenshot plus what the page showed when it was taken."""

    png: bytes
    text: str  # the page's visible text
    graph_text: str  # the text inside the graph canvas (SVG foreignObject/text nodes)
    scale: float | None  # the graph's zoom when captured (names show from 0.15 up)


def screenshot(
    url: str,
    wait_for: Sequence[str],
    width: int = 2400,
    height: int = 1000,
    timeout: float = 60.0,
    settle: float = 1.5,
    chromium: str | None = None,
) -> PageShot:
    """Open ``url`` in headless Chromium, wait until the graph shows every name in ``wait_for`` (then
    ``settle`` seconds more) and capture the viewport. The graph is zoomed to fit the window and names
    only show from zoom 0.15 up: the whole lineage (~7400 px wide) needs a window ~2400 px wide."""
    binary = chromium or find_chromium()
    if binary is None:
        raise FileNotFoundError("no Chromium binary (chromium, chromium-browser, google-chrome, $CHROMIUM)")
    with chromium_page(binary, width, height) as page:
        page.call("Page.addScriptToEvaluateOnNewDocument", source=PAGE_SETUP_SCRIPT)
        page.call("Page.navigate", url=url)
        wait_until(lambda: page.evaluate(GRAPH_READY_SCRIPT), timeout, f"the graph at {url}")
        wait_until(
            lambda: not missing_names(page.evaluate(GRAPH_TEXT_SCRIPT) or "", wait_for),
            timeout,
            f"the graph at {url} to show {list(wait_for)}",
        )
        time.sleep(settle)
        data = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        return PageShot(
            png=base64.b64decode(data),
            text=page.evaluate(TEXT_SCRIPT) or "",
            graph_text=page.evaluate(GRAPH_TEXT_SCRIPT) or "",
            scale=page.evaluate(GRAPH_SCALE_SCRIPT),
        )


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, help="write the asset lineage PNG here")
    parser.add_argument("--window-size", default="2400,1000", help="WIDTH,HEIGHT of the browser window")
    parser.add_argument("--materialize", action="store_true", help="also run raw_sample_files + raw_samples")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.window_size.split(","))
    started = time.monotonic()
    with dagster_dev() as server:
        print(f"dagster dev up at {server.url} in {time.monotonic() - started:.1f} s")
        nodes = asset_nodes(server)
        print(f"{len(nodes)} assets, {len(asset_checks(server))} asset checks")
        if args.materialize:
            run_id = launch_assets(server, SMALL_SELECTION)
            print(f"run {run_id}: {wait_for_run(server, run_id)}")
        if args.screenshot:
            url = lineage_url(server.url, {info.group for info in nodes.values()})
            shot = screenshot(url, [key[-1] for key in nodes], width, height)
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            args.screenshot.write_bytes(shot.png)
            print(f"wrote {args.screenshot} ({len(shot.png)} bytes, graph zoom {shot.scale})")
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
