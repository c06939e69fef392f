"""A school's server through its balancer, in real Chromium (issue #23): two app processes behind nginx with sticky
sessions, the run store on a real PostgreSQL, one shared home. Students on different replicas share a class, a
killed replica's run is resumable on the other, and a database restart mid-class loses nothing."""
import os
import re
import shutil
import sys

import pytest
from PIL import Image
from test_browser import CHROMIUM, LAUNCH_ARGS, wait_for_app_idle

from conftest import ARTIFACTS, ROOT, tiny_cnn_run
from fmnist_ui.share import encode_run

sys.path.insert(0, str(ROOT / "deploy"))
from topology import POSTGRES_BIN, Topology  # noqa: E402

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(not (POSTGRES_BIN / "initdb").exists() or not shutil.which("nginx"),
                       reason="Debian's postgresql and nginx are not installed (make services)"),
]
A, B = 0, 1


@pytest.fixture(scope="module")
def school():
    topology = Topology(replicas=2)  # in a temporary folder the postgres user can reach (not pytest's, 0700)
    try:
        yield topology.start()
    finally:
        topology.stop()
        shutil.rmtree(topology.folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def what_the_servers_said(school):
    """Print what the replicas and nginx logged during the test: pytest shows it for a failing test only, and the
    folder with the logs is gone by the time anyone reads the report."""
    sizes = {log: log.stat().st_size for log in sorted(school.folder.glob("*.log"))}
    yield
    for log, size in sizes.items():
        with open(log, "rb") as handle:
            handle.seek(size)
            lines = handle.read().decode(errors="replace").splitlines()
        print(f"--- {log.name}: {len(lines)} lines during the test (the last 60)", *lines[-60:], sep="\n")
    # and what each browser saw: its console, and the app's own requests with the replica that answered them
    for number, page in enumerate(OPENED_PAGES):
        print(f"--- browser {number}: console (the last 30)", *page.console_lines[-30:],
              f"--- browser {number}: requests to /_stcore/ (the last 30)", *page.app_requests[-30:], sep="\n")
    OPENED_PAGES.clear()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


def page_on(browser, school, replica: int, path: str = "", width: int = 1366, height: int = 900, **context):
    """A new browser (its own cookies) whose requests nginx sends to `replica`, at `path`."""
    opened = browser.new_context(viewport={"width": width, "height": height}, **context)
    opened.add_cookies([{"name": "fmnist_route", "value": school.route_to(replica), "url": school.url}])
    page = opened.new_page()
    responses, console_lines, app_requests = [], [], []

    def answered(response):
        responses.append(response.status)
        if "/_stcore/" in response.url:
            app_requests.append(f"{response.request.method} {response.url.split('/_stcore/')[1][:90]} "
                                f"{response.status} from {response.headers.get('x-fmnist-replica', '?')}")

    page.on("response", answered)
    page.on("requestfailed", lambda request: request.url.startswith(school.url) and app_requests.append(
        f"{request.method} {request.url[len(school.url):][:90]} failed: {request.failure}"))
    page.on("console", lambda message: console_lines.append(f"{message.type}: {message.text[:200]}"))
    page.responses, page.console_lines, page.app_requests = responses, console_lines, app_requests
    OPENED_PAGES.append(page)
    page.goto(f"{school.url}/{path}")
    return page


OPENED_PAGES = []  # this test's browsers, for what_the_servers_said


def teacher_code_of(school) -> str:
    from fmnist_core.teacher import teacher_code

    return teacher_code(school.home)


def test_a_class_spans_replicas(browser, school, tmp_path):
    from playwright.sync_api import expect

    run = tiny_cnn_run(epochs=1)
    teacher = page_on(browser, school, A, f"?teacher={teacher_code_of(school)}&spec={encode_run(run)}")
    expect(teacher.get_by_text("Teacher mode", exact=True)).to_be_visible(timeout=90_000)
    wait_for_app_idle(teacher)
    teacher.get_by_label("Name of a new class").fill("Period 1")
    teacher.get_by_role("button", name="Create the class").click()
    heading = teacher.get_by_text(re.compile("Class Period 1 · code"))
    expect(heading).to_be_visible(timeout=30_000)
    code = heading.inner_text().split("code")[1].strip().replace(" ", "")

    ana = page_on(browser, school, A, f"?c={code}")  # replica A trains the class's model
    expect(ana.get_by_text("You are in class")).to_be_visible(timeout=90_000)
    ana.get_by_role("button", name="Train", exact=True).click()
    expect(ana.get_by_text(re.compile(r"Finished: 1 epoch in"))).to_be_visible(timeout=240_000)

    bea = page_on(browser, school, B, f"board?c={code}", accept_downloads=True)  # replica B sees it
    expect(bea.get_by_text("1 run from 1 browser ·", exact=False)).to_be_visible(timeout=90_000)
    bea.get_by_role("link", name="Explore feature maps").first.click()
    expect(bea.get_by_role("button", name="#7", exact=True)).to_be_visible(timeout=60_000)
    bea.get_by_role("button", name="#7", exact=True).click()
    expect(bea.get_by_role("heading", name="Test image #7")).to_be_visible(timeout=30_000)
    wait_for_app_idle(bea)
    shown = "Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0)"
    assert bea.evaluate(f"{shown}.length") >= 3  # the chosen image and its maps (data addresses in the page)

    picture = tmp_path / "drawing.png"
    Image.new("L", (120, 160), 255).save(picture)
    uploader = bea.locator("[data-testid='stFileUploader']", has_text="Try your own picture")
    uploader.locator("input[type='file']").set_input_files(str(picture))
    expect(bea.get_by_text("What the model sees (28×28)")).to_be_visible(timeout=30_000)
    wait_for_app_idle(bea)
    # the student's own picture is a media file: fetched from the replica that holds it, through the balancer
    assert bea.evaluate(f"{shown}.filter(i => i.src.includes('/media/')).length") >= 2
    bea.get_by_text("Take this model home, or bring one back").click()
    with bea.expect_download(timeout=60_000) as download:
        bea.get_by_role("button", name="Download this model (.pt)").click()
    model_file = tmp_path / "model.pt"
    download.value.save_as(model_file)
    bea.locator("[data-testid='stFileUploader']", has_text="Bring a model back").locator(
        "input[type='file']").set_input_files(str(model_file))
    expect(bea.get_by_text("This model was already on this server")).to_be_visible(timeout=60_000)
    assert 400 not in bea.responses and 400 not in ana.responses  # no "session invalid" through the balancer

    bea.get_by_role("link", name="Build & train").first.click()
    expect(bea.get_by_role("button", name="Train", exact=True)).to_be_visible(timeout=60_000)
    epochs = bea.locator("[data-testid='stSlider']", has_text="Epochs").get_by_role("slider")
    expect(epochs).to_be_enabled()
    teacher.get_by_role("link", name="Build & train").first.click()
    wait_for_app_idle(teacher)
    box = teacher.locator("[data-testid='stMultiSelect']", has_text="Lock for students")
    box.locator("input").click()
    teacher.keyboard.type("Epochs")
    teacher.get_by_role("option", name="Epochs", exact=True).click()
    teacher.keyboard.press("Escape")
    expect(epochs.last).to_be_disabled(timeout=20_000)  # changed on replica A, seen on replica B within seconds
    ARTIFACTS.mkdir(exist_ok=True)
    bea.screenshot(path=str(ARTIFACTS / "replicas-student-on-b.png"))


def test_a_database_restart_mid_class_is_said_and_survived(browser, school):
    from playwright.sync_api import expect

    page = page_on(browser, school, B, "compare")
    expect(page.get_by_role("heading", name="Compare runs")).to_be_visible(timeout=90_000)
    runs_before = page.locator("[data-testid='stDataFrame']").count()
    school.postgres.stop()
    try:
        page.get_by_role("link", name="Class board").first.click()
        expect(page.get_by_text("The server's database does not answer right now")).to_be_visible(timeout=60_000)
        assert page.locator("[data-testid='stException']").count() == 0  # said, not a red traceback
    finally:
        school.postgres.start()
    for _ in range(15):  # as the page says: wait a few seconds and click again
        page.wait_for_timeout(2000)
        page.get_by_role("link", name="Compare runs").first.click()
        wait_for_app_idle(page)
        if page.locator("[data-testid='stDataFrame']").count() >= max(1, runs_before):
            break
    page.screenshot(path=str(ARTIFACTS / "replicas-after-db-restart.png"))
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(max(1, runs_before))
    assert os.path.exists(school.home / "runs")  # the checkpoints never moved


def test_a_killed_replica_leaves_its_run_resumable_on_the_other(browser, school):
    from playwright.sync_api import expect

    from fmnist_core.kinds.cnn import CNNSpec
    from fmnist_core.lease import LEASE_SECONDS
    from fmnist_core.specs import RunSpec, TrainConfig

    run = RunSpec(CNNSpec(conv_channels=(32, 32)), TrainConfig(epochs=30, seed=8))  # seconds an epoch: time to kill
    ana = page_on(browser, school, A, f"?spec={encode_run(run)}")
    ana.get_by_role("button", name="Train", exact=True).click(timeout=90_000)
    expect(ana.get_by_text(re.compile(r"Epoch \d+/30 ·"))).to_be_visible(timeout=120_000)  # an epoch saved
    school.kill_replica(A)  # its worker goes with it (the last test of the module: A stays down)
    bea = page_on(browser, school, B, f"?spec={encode_run(run)}")
    resume = bea.get_by_role("button", name=re.compile("Resume from epoch"))
    expect(resume).to_be_visible(timeout=int((LEASE_SECONDS + 45) * 1000))  # from the last epoch A saved
    expect(bea.get_by_text(re.compile("Interrupted after"))).to_be_visible()
