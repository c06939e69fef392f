import contextlib
import gc
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "deploy"))  # the school's topology: PostgreSQL, replicas, nginx (tests start them)

from topology import POSTGRES_BIN, PostgresServer, free_port, wait_healthy  # noqa: E402

from fmnist_core.data import get_dataset  # noqa: E402
from fmnist_core.kinds.cnn import CNNSpec  # noqa: E402
from fmnist_core.kinds.mlp import MLPSpec  # noqa: E402
from fmnist_core.specs import RunSpec, TrainConfig  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test writes its runs and checkpoints under its own FMNIST_HOME."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("FMNIST_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def data():
    return get_dataset()


@pytest.fixture(scope="session")
def small_data(data):
    """First 6,000 training images (all 10,000 test images): for short real runs."""
    from fmnist_core.data import FashionMNIST

    return FashionMNIST(data.train_images[:6000], data.train_labels[:6000], data.test_images, data.test_labels,
                        data.source)


SMALL_CNN = RunSpec(CNNSpec(conv_channels=(8, 16), dense=32),  # two conv layers, trained in seconds
                    TrainConfig(epochs=2, batch_size=256, lr=3e-3, shuffle=True))


def tiny_cnn_run(epochs: int = 1, **train) -> RunSpec:
    return RunSpec(CNNSpec(conv_channels=(8,), dense=32), TrainConfig(epochs=epochs, lr=3e-3, **train))


def tiny_mlp_run(epochs: int = 1, **train) -> RunSpec:
    return RunSpec(MLPSpec(hidden=(32,)), TrainConfig(epochs=epochs, lr=3e-3, **train))


def wait_for(predicate, timeout: float = 120.0) -> bool:
    """Poll `predicate` until it is true (True) or `timeout` seconds pass (False)."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def wait_until_done(keys, timeout=180.0) -> bool:
    """Whether every run of `keys` is done in the app's store within `timeout` seconds."""
    from fmnist_ui import state

    store = state.store()
    return wait_for(lambda: all(store.get(key) is not None and store.get(key).status == "done" for key in keys),
                    timeout)


def subprocess_env(home: Path) -> dict:
    env = dict(os.environ, FMNIST_HOME=str(home), PYTHONPATH=str(ROOT))
    return env


torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))


# Streamlit AppTest helpers, shared by the page tests.
APP = str(ROOT / "app.py")


@pytest.fixture
def fresh_app_resources():
    """Each test has its own FMNIST_HOME, so the app's shared resources must start afresh too."""
    import streamlit as st

    from fmnist_ui import state

    st.cache_resource.clear()
    yield
    try:
        state.job_manager().shutdown()
    finally:
        st.cache_resource.clear()


def app(lang: str = "en", query: dict | None = None, **widgets):
    """Run app.py once in AppTest with `?lang=` (and any other query values) and these session values."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = lang
    at.query_params.update(query or {})
    for key, value in widgets.items():
        at.session_state[key] = value
    return at.run()


def markdown_text(at) -> str:
    return "\n".join(element.value for element in at.markdown)


def image_grid(at, key: str):
    """The grid of image buttons with this key (fmnist_ui/image_buttons.py), as the page sent it (its proto)."""
    [grid] = [element.proto for element in at.get("bidi_component") if element.proto.id.endswith(f"-{key}")]
    return grid


def grid_data(at, key: str) -> dict:
    """What the page gave the grid: its label, the selected image and the tiles."""
    grid = image_grid(at, key)
    return json.loads(grid.json or grid.mixed.json)


def grid_tiles(at, key: str) -> list[int]:
    """The test images the grid shows, in the page's order."""
    return [tile["index"] for tile in grid_data(at, key)["tiles"]]


def press_tile(at, key: str, value):
    """Click a tile of the grid as its JavaScript does: the grid's state `{"pick": value}` sent with every other
    widget's value (AppTest knows no components; `value` is [index, time] from a browser, anything from a forger)."""
    from fmnist_ui.image_buttons import EVENT

    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id, state.json_value = image_grid(at, key).id, json.dumps({EVENT: value})
    return at._run(states)


# A test leaves the process as it found it: no child process alive, no signal handler changed. A leaked SIGTERM
# handler once made every later child ignore terminate(), and the suite hung at exit on spinning processes.
WATCHED_SIGNALS = tuple(signal.Signals[name] for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGCHLD", "SIGUSR1"))


def living_children(pid: int | None = None) -> set[int]:
    """This process's children that still run (zombies excluded), read from /proc (empty where there is none)."""
    pid = pid or os.getpid()
    children = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children.update(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    alive = set()
    for child in children:
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.add(child)
    return alive


@pytest.fixture(autouse=True)
def leaves_the_process_as_it_found_it(request):
    if request.node.get_closest_marker("cluster"):  # a Ray cluster (a module fixture) adds and kills its own node
        yield                                        # processes and installs Ray's handlers: not the test's doing
        return
    handlers = {number: signal.getsignal(number) for number in WATCHED_SIGNALS}
    children = living_children()
    yield
    gc.unfreeze()  # what an app run set aside (state.settle_heap) is a later test's garbage, not kept for good
    changed = [number.name for number, handler in handlers.items() if signal.getsignal(number) is not handler]
    for number, handler in handlers.items():
        signal.signal(number, handler)
    leaked = living_children() - children
    if leaked:  # a process may take a moment to exit after its last wait
        import time

        time.sleep(1.0)
        leaked = living_children() - children
    for child in leaked:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    problems = ([f"signal handlers changed: {', '.join(changed)}"] if changed else []) + \
        ([f"child processes left running: {sorted(leaked)}"] if leaked else [])
    if problems:
        pytest.fail(f"{request.node.nodeid} " + "; ".join(problems), pytrace=False)


def server_teacher_code() -> str:
    """The teacher code of the test's home (what the server printed at start)."""
    from fmnist_core.storage import app_home
    from fmnist_core.teacher import teacher_code

    return teacher_code(app_home())


def teacher_app(lang: str = "en", query: dict | None = None, **widgets):
    """The app opened with the server's teacher link."""
    return app(lang, {"teacher": server_teacher_code(), **(query or {})}, **widgets)


def create_class(teacher, name: str = "Period 1") -> str:
    """In a teacher's AppTest: create a class named `name`; its code."""
    teacher.text_input(key="new_class_name").set_value(name)
    [create] = [button for button in teacher.sidebar.button if button.label == "Create the class"]
    create.click().run()
    [text] = [element.value for element in teacher.sidebar.markdown if element.value.startswith("Class **")]
    return text.split("code **")[1].split("**")[0].replace(" ", "")


@contextlib.contextmanager
def streamlit_server(home: Path, log_path: Path | None = None, **environment):
    """`streamlit run app.py` on a free loopback port with `home` as FMNIST_HOME (and `environment`); its URL.
    What the server prints goes to `log_path` when given."""
    import subprocess

    port = free_port()
    env = dict(os.environ, FMNIST_HOME=str(home), PYTHONPATH=str(ROOT), **environment)
    log_file = open(log_path or os.devnull, "wb")  # noqa: SIM115 - closed below, after the server
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url, 60):
            pytest.fail("streamlit did not become healthy")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


# A throw-away PostgreSQL for the store tests: Debian's postgresql package (make test installs it), started by the
# suite itself in a temporary folder as the postgres user (it refuses root), on a free loopback port
# (deploy/topology.py's PostgresServer).


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    if not (POSTGRES_BIN / "initdb").exists():
        pytest.skip("PostgreSQL is not installed (make test installs Debian's postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (requirements-postgres.txt)")
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="fmnist-pg-"))).init().start()
    yield server
    try:
        server.stop()
    finally:
        server.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, monkeypatch):
    """Each store test twice: on the SQLite file under FMNIST_HOME, and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        monkeypatch.delenv("FMNIST_DATABASE_URL", raising=False)
        return None
    url = request.getfixturevalue("postgres").database()
    monkeypatch.setenv("FMNIST_DATABASE_URL", url)
    return url
