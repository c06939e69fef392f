"""Load test, run by hand (not part of `make test`): N real Chromium sessions against one app server.

Each session opens the Explore page of a trained run and clicks test images for a bounded time, while
training jobs run in the background; the script prints per-action latency (median, p95), errors, and the
server's resident memory at start, peak and end.

    .venv/bin/python benchmarks/load_test.py --sessions 1,10,20,30 --seconds 60

With `--client websocket` the sessions speak Streamlit's own websocket protocol (what the page's JavaScript
sends: a rerun with the clicked button's id) and fetch every image the answer names, but render nothing: on
one machine, 30 Chromium renderers compete with the server for the same cores, while in a classroom each
browser runs on its student's own computer. This mode measures what the server alone can serve.

It starts its own server on a scratch FMNIST_HOME and trains a small CNN first when the home has no run to
explore. With `--replicas N` it starts the school's topology instead (deploy/topology.py: PostgreSQL, N app
processes, nginx with sticky sessions) and every session goes through the balancer, keeping its own route cookie
as a browser does; memory and CPU are then summed over the replicas (and memory given per replica)."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fmnist_ui.image_buttons import COMPONENT_NAME as IMAGE_BUTTONS  # noqa: E402
from fmnist_ui.image_buttons import EVENT as PICK  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAUSE = (0.5, 1.5)  # seconds between one session's clicks (--pause)
RAMP = 0.0  # seconds over which the sessions arrive (--ramp); 0: all at once
TARGET_CLICK_P95, TARGET_LOAD_P95 = 0.5, 2.0  # seconds: what a class should feel (#26)
SETTLED = ("() => document.querySelectorAll('[data-stale=\"true\"]').length === 0 && "
           "Array.from(document.images).every(image => image.complete)")


def resident_mib(pid: int) -> float:
    """Resident memory of one process (MiB), from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (s), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else float("nan")


def prepare_home(home: Path, jobs: int) -> tuple[str, list[str]]:
    """A run to explore (trained here if missing) and the specs of `jobs` long training runs to keep busy."""
    from fmnist_core.cache import open_store
    from fmnist_core.kinds.cnn import CNNSpec
    from fmnist_core.runs import train_run
    from fmnist_core.specs import RunSpec, TrainConfig
    from fmnist_ui.share import encode_run

    store = open_store(home)
    explored = RunSpec(CNNSpec(conv_channels=(16, 32), dense=64), TrainConfig(epochs=1, lr=3e-3, shuffle=True))
    if store.get(explored.key) is None or store.get(explored.key).status != "done":
        print("training the run to explore (one epoch of a 16-32 CNN)...", flush=True)
        train_run(explored, store, home)
    stamp = int(time.time()) % 100_000  # fresh seeds: the background jobs must really train
    background = [RunSpec(CNNSpec(conv_channels=(32, 32)), TrainConfig(epochs=30, seed=stamp + index))
                  for index in range(jobs)]
    return explored.key, [encode_run(run) for run in background]


def start_server(home: Path, max_jobs: int) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, FMNIST_HOME=str(home), FMNIST_MAX_JOBS=str(max_jobs), PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the server did not start")


async def start_jobs(browser, url: str, specs: list[str]) -> None:
    """Press Train on each background spec through the app, as a student would."""
    context = await browser.new_context()
    page = await context.new_page()
    for spec in specs:
        await page.goto(f"{url}/?spec={spec}")
        await page.get_by_role("button", name="Train", exact=True).click(timeout=90_000)
        await page.get_by_role("button", name="Stop").wait_for(timeout=60_000)
    await context.close()


async def session(browser, url: str, run_key: str, seconds: float, results: dict) -> None:
    """One student: open Explore on the run, then click random test images until time is up."""
    await asyncio.sleep(random.uniform(0, RAMP))
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        started = time.perf_counter()
        await page.goto(f"{url}/explore?run={run_key}&image=0", timeout=120_000)
        await page.get_by_role("heading", name="Test image #0").wait_for(timeout=120_000)
        await page.wait_for_function(SETTLED, timeout=120_000)
        results["load"].append(time.perf_counter() - started)
        deadline = time.perf_counter() + seconds
        current = 0
        while time.perf_counter() < deadline:
            gallery = page.get_by_role("button", name=re.compile(r"^#\d+$"))
            await gallery.first.wait_for(timeout=30_000)
            shown = [int(text.strip("# \n")) for text in await gallery.all_inner_texts()] or [current]
            index = random.choice([number for number in shown if number != current] or shown)
            choice = page.get_by_role("button", name=f"#{index}", exact=True)
            clicked = time.perf_counter()
            try:
                await choice.click(timeout=30_000)
                await page.get_by_role("heading", name=f"Test image #{index}").wait_for(timeout=30_000)
                await page.wait_for_function(SETTLED, timeout=30_000)
                results["click"].append(time.perf_counter() - clicked)
                current = index
            except Exception as error:  # a timeout or a broken page is an error of this run
                results["errors"].append(f"click #{index}: {type(error).__name__}")
            await asyncio.sleep(random.uniform(*PAUSE))  # a student looks at the maps for a moment
        if await page.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count():
            results["errors"].append("an error message is shown on the page")
    except Exception as error:
        results["errors"].append(f"session: {type(error).__name__}: {str(error)[:120]}")
    finally:
        await context.close()


class AppSocket:
    """One app session over Streamlit's websocket protocol: send a rerun (optionally with one widget's new
    value), read the answer up to "script finished", fetch the images it shows."""

    def __init__(self, url: str, query: str, page: str) -> None:
        self.url, self.query, self.page = url, query, page
        # a browser's cookie: behind the balancer every request of this session reaches the same app process
        self.headers = {"Cookie": f"fmnist_route=load-{random.getrandbits(48):x}"}
        self.buttons: dict[str, tuple[str, str]] = {}  # label → (widget id, fragment id)
        self.tiles: dict[str, tuple[str, str, int]] = {}  # "#7" → (grid id, fragment id, index): image grids
        self.radios: dict[str, tuple[str, str, list[str]]] = {}  # label → (widget id, fragment id, options)
        self.headings: list[str] = []
        self.errors: list[str] = []
        self.fetched: set[str] = set()  # like a browser's cache: media addresses are content hashes
        self.page_hash = ""  # the open page, from the server's first answer

    async def __aenter__(self):
        import websockets

        address = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.socket = await websockets.connect(address, subprotocols=["streamlit"], origin=self.url, max_size=None,
                                               additional_headers=self.headers)
        return self

    async def __aexit__(self, *_):
        await self.socket.close()

    async def rerun(self, widget: str = "", fragment: str = "", trigger: bool = False, text: str = "",
                    event: tuple[str, object] | None = None) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = BackMsg()
        state = message.rerun_script
        state.query_string, state.page_name, state.fragment_id = self.query, self.page, fragment
        state.page_script_hash = self.page_hash  # as a browser does once the page is open: not a page change
        if widget:
            value = state.widget_states.widgets.add()
            value.id = widget
            if event is not None:  # a component's state (fmnist_ui/image_buttons.py), as its JavaScript sets it
                value.json_value = json.dumps({event[0]: [event[1], time.time()]})
            elif trigger:
                value.trigger_value = True
            else:
                value.string_value = text  # a radio's value is its option's label
        await self.socket.send(message.SerializeToString())
        self.buttons, self.tiles, self.headings, media = {}, {}, [], []  # what this answer shows
        while True:
            answer = ForwardMsg()
            answer.ParseFromString(await self.socket.recv())
            kind = answer.WhichOneof("type")
            if kind == "script_finished":
                break
            if kind == "new_session":
                self.page_hash = answer.new_session.page_script_hash
            elif kind == "page_info_changed":  # the app rewrote the address (st.query_params): a browser keeps it
                self.query = answer.page_info_changed.query_string
            if kind != "delta" or answer.delta.WhichOneof("type") != "new_element":
                continue
            element, where = answer.delta.new_element, answer.delta.fragment_id
            element_kind = element.WhichOneof("type")
            if element_kind == "button":
                self.buttons[element.button.label] = (element.button.id, where)
            elif element_kind == "bidi_component" and element.bidi_component.component_name == IMAGE_BUTTONS:
                grid = element.bidi_component
                for tile in json.loads(grid.json or grid.mixed.json)["tiles"]:
                    self.tiles[f"#{tile['index']}"] = (grid.id, where, tile["index"])
            elif element_kind == "radio":
                self.radios[element.radio.label] = (element.radio.id, where, list(element.radio.options))
            elif element_kind == "heading":
                self.headings.append(element.heading.body)
            elif element_kind == "markdown" and element.markdown.body.startswith("#"):
                # column headings are markdown ("#### Test image #7"), rendered as <h4> in the page
                self.headings.append(element.markdown.body.lstrip("#").strip())
            elif element_kind == "imgs":
                media.extend(image.url for image in element.imgs.imgs)
            elif element_kind == "exception":
                self.errors.append(element.exception.message[:120])
        new = {address for address in media if address.startswith("/")} - self.fetched
        await asyncio.gather(*(asyncio.to_thread(_fetch, self.url + address, self.headers) for address in new))
        self.fetched |= new


def _fetch(address: str, headers: dict | None = None) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(address, headers=headers or {}), timeout=30) as response:
        return response.read()


async def socket_session(url: str, run_key: str, seconds: float, results: dict) -> None:
    """The same student as `session`, over the websocket protocol; now and then turns a gallery page."""
    await asyncio.sleep(random.uniform(0, RAMP))
    try:
        started = time.perf_counter()
        async with AppSocket(url, f"run={run_key}&image=0", "explore") as app:
            await app.rerun()
            if "Test image #0" not in app.headings:
                raise RuntimeError(f"page opened without test image #0: {app.headings}")
            results["load"].append(time.perf_counter() - started)
            deadline = time.perf_counter() + seconds
            current = 0
            while time.perf_counter() < deadline:
                if random.random() < 0.2 and "Images" in app.radios:
                    widget, fragment, pages = app.radios["Images"]
                    await app.rerun(widget, fragment, text=random.choice(pages))
                label = random.choice([label for label in app.tiles if label != f"#{current}"])
                widget, fragment, index = app.tiles[label]
                clicked = time.perf_counter()
                await app.rerun(widget, fragment, event=(PICK, index))
                if f"Test image {label}" in app.headings:
                    results["click"].append(time.perf_counter() - clicked)
                    current = int(label[1:])
                else:
                    results["errors"].append(f"click {label}: the answer did not show it")
                await asyncio.sleep(random.uniform(*PAUSE))
            results["errors"].extend(app.errors)
    except Exception as error:
        results["errors"].append(f"session: {type(error).__name__}: {str(error)[:120]}")


async def measure(url: str, run_key: str, sessions: int, seconds: float, server_pids: list[int] | None,
                  client: str = "browser") -> dict:
    from playwright.async_api import async_playwright

    results = {"load": [], "click": [], "errors": []}
    async with async_playwright() as playwright:
        browser = (await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                   if client == "browser" else None)
        server_pids = server_pids or []
        memory = [[resident_mib(pid) for pid in server_pids]] if server_pids else []

        async def sample_memory():
            while True:
                await asyncio.sleep(1.0)
                if server_pids:
                    memory.append([resident_mib(pid) for pid in server_pids])

        sampler = asyncio.create_task(sample_memory())
        cpu_before, wall_before = sum(map(cpu_seconds, server_pids)), time.perf_counter()
        if browser is not None:
            await asyncio.gather(*(session(browser, url, run_key, seconds, results) for _ in range(sessions)))
        else:
            await asyncio.gather(*(socket_session(url, run_key, seconds, results) for _ in range(sessions)))
        results["server_cpu"] = sum(map(cpu_seconds, server_pids)) - cpu_before
        results["wall"] = time.perf_counter() - wall_before
        sampler.cancel()
        if browser is not None:
            await browser.close()
    results["memory"] = memory
    return results


def report(sessions: int, results: dict) -> None:
    clicks, loads, memory = results["click"], results["load"], results["memory"]
    print(f"\n{sessions} sessions: {len(clicks)} clicks, {len(results['errors'])} errors")
    print(f"  page load    median {statistics.median(loads) if loads else float('nan'):6.2f} s   "
          f"p95 {percentile(loads, 0.95):6.2f} s")
    print(f"  click→maps   median {statistics.median(clicks) if clicks else float('nan'):6.2f} s   "
          f"p95 {percentile(clicks, 0.95):6.2f} s")
    if results.get("server_cpu") and clicks:
        print(f"  server CPU   {results['server_cpu']:.1f} s over {results['wall']:.0f} s "
              f"({results['server_cpu'] / results['wall']:.0%} of one core) · "
              f"{results['server_cpu'] / (len(clicks) + len(loads)):.2f} s per page load or click")
    if memory:
        totals = [sum(sample) for sample in memory]
        per_replica = " · ".join(f"{max(sample[index] for sample in memory):.0f}" for index in range(len(memory[0])))
        print(f"  server RSS   start {totals[0]:.0f} MiB · peak {max(totals):.0f} MiB · end {totals[-1]:.0f} MiB "
              f"(peak per process: {per_replica} MiB)")
        if results.get("wall"):
            print(f"  reruns/s     {(len(clicks) + len(loads)) / results['wall']:.1f}")
    for error in results["errors"][:5]:
        print(f"  error: {error}")
    verdict = (not results["errors"] and clicks and percentile(clicks, 0.95) <= TARGET_CLICK_P95
               and loads and percentile(loads, 0.95) <= TARGET_LOAD_P95)
    print(f"  targets (0 errors, p95 click→maps ≤ {TARGET_CLICK_P95:g} s, p95 page load ≤ {TARGET_LOAD_P95:g} s): "
          f"{'met' if verdict else 'NOT met'}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="30", help="comma-separated session counts, e.g. 1,10,20,30")
    parser.add_argument("--seconds", type=float, default=60.0, help="clicking time per session count")
    parser.add_argument("--jobs", type=int, default=2, help="training jobs running during the test")
    parser.add_argument("--home", type=Path, help="FMNIST_HOME for the server (default: a scratch folder)")
    parser.add_argument("--client", choices=("browser", "websocket"), default="browser",
                        help="Chromium pages, or sessions that speak the websocket protocol and render nothing")
    parser.add_argument("--pause", default="0.5,1.5",
                        help="seconds a session waits between clicks, as LOW,HIGH (uniform); 3,6 is a reading pace")
    parser.add_argument("--replicas", type=int, default=0,
                        help="N app processes behind nginx on PostgreSQL (deploy/topology.py); 0: one plain server")
    parser.add_argument("--ramp", type=float, default=0.0,
                        help="sessions arrive at random moments over this many seconds (default: all at once)")
    args = parser.parse_args()
    global PAUSE, RAMP
    PAUSE, RAMP = tuple(float(part) for part in args.pause.split(",")), args.ramp
    if args.replicas:
        sys.path.insert(0, str(ROOT / "deploy"))
        from topology import Topology

        topology = Topology(args.replicas, environment={"FMNIST_MAX_JOBS": str(max(1, args.jobs))}).start()
        home, url, server = topology.home, topology.url, topology
        os.environ.update(FMNIST_HOME=str(home), FMNIST_DATABASE_URL=topology.database_url)
        pids = [process.pid for process in topology.processes.values()]
    else:
        home = args.home or Path(tempfile.mkdtemp(prefix="fmnist-load-"))
        os.environ["FMNIST_HOME"] = str(home)
        server, url = start_server(home, max_jobs=max(1, args.jobs))
        pids = [server.pid]
    run_key, job_specs = prepare_home(home, args.jobs)
    print(f"server {url} (pids {pids}), home {home}, {os.cpu_count()} cores, {args.client} sessions, "
          f"{PAUSE[0]:g}–{PAUSE[1]:g} s between clicks, arriving over {RAMP:g} s", flush=True)
    try:
        async def start_background():
            from playwright.async_api import async_playwright

            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                await start_jobs(browser, url, job_specs)
                await browser.close()

        # Warm-up, not measured: the first visitor pays for loading the data set and the model once.
        asyncio.run(measure(url, run_key, 1, 3.0, None, args.client))
        if job_specs:
            asyncio.run(start_background())
            print(f"{len(job_specs)} training jobs running", flush=True)
        for sessions in (int(part) for part in args.sessions.split(",")):
            report(sessions, asyncio.run(measure(url, run_key, sessions, args.seconds, pids, args.client)))
    finally:
        if args.replicas:
            server.stop()
        else:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
