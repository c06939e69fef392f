"""The main path in real Chromium: build a small CNN, train one epoch, explore its maps, switch to Spanish."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from PIL import Image, ImageDraw

from conftest import ARTIFACTS, ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make browser)"),
]
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(isolated_home):
    port = free_port()
    env = dict(os.environ, FMNIST_HOME=str(isolated_home), PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("streamlit did not become healthy: " + process.stdout.read().decode(errors="replace")[-2000:])
    yield url
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def slider(page, label):
    return page.locator("[data-testid='stSlider']", has_text=label).get_by_role("slider")


def press(page, label, key, times=1):
    handle = slider(page, label)
    handle.focus()
    for _ in range(times):
        handle.press(key)
        page.wait_for_timeout(250)


def test_main_path_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        page.goto(server + "/")
        train = page.get_by_role("button", name="Train", exact=True)
        train.wait_for(timeout=90_000)

        # A small CNN: 1 conv layer of 8 filters, dense 32, 1 epoch.
        press(page, "Number of conv layers", "ArrowLeft")
        press(page, "Filters in conv layer 1", "Home")
        press(page, "Dense layer width", "ArrowLeft", times=2)
        press(page, "Epochs", "Home")
        expect(page.get_by_text("43,706")).to_be_visible()  # 8 filters, dense 32
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.get_by_text("Finished: 1 epoch(s)")).to_be_visible(timeout=240_000)
        points = page.locator(".js-plotly-plot .scatterlayer .trace .points path")
        expect(points.first).to_be_attached(timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "1-train.png"), full_page=True)
        assert "spec=" in page.url  # the address bar is a link to this model
        shared_link = page.url

        page.get_by_role("link", name="Explore feature maps").first.click()
        expect(page.get_by_text("Test images (click one)")).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="#7", exact=True).click()
        expect(page.get_by_role("heading", name="Test image #7")).to_be_visible(timeout=20_000)
        expect(page.get_by_text("conv1 · 8 filters · 26×26 each")).to_be_visible()
        expect(page.get_by_text("pool1 · 8 filters · 13×13 each")).to_be_visible()
        grids = page.locator("[data-testid='stImage'] img")
        assert grids.count() > 100  # 100 thumbnails + the selected image + one grid per layer
        page.screenshot(path=str(ARTIFACTS / "2-explore.png"), full_page=True)

        # Your own picture: a wrong file gets a message, a drawing becomes a 28×28 input.
        not_a_picture = tmp_path / "notes.png"
        not_a_picture.write_text("this is text, not a picture")
        uploader = page.locator("[data-testid='stFileUploader'] input[type='file']")
        uploader.set_input_files(str(not_a_picture))
        expect(page.get_by_text("This file cannot be used: it is not an image we can read")).to_be_visible(
            timeout=20_000)
        drawing = tmp_path / "drawing.png"
        Image.new("RGB", (200, 300), "white").save(drawing)
        with Image.open(drawing) as opened:
            canvas = opened.copy()
        ImageDraw.Draw(canvas).rectangle((50, 40, 150, 260), fill=(20, 20, 20))
        canvas.save(drawing)
        uploader.set_input_files(str(drawing))
        expect(page.get_by_text("What the model sees (28×28)")).to_be_visible(timeout=20_000)
        expect(page.get_by_text("conv1 · 8 filters · 26×26 each")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "2b-explore-upload.png"), full_page=True)

        page.get_by_text("Español").click()
        expect(page.get_by_role("heading", name="Explorar mapas de activación")).to_be_visible(timeout=20_000)
        expect(page.get_by_text("Clase real:")).to_be_visible()
        assert "lang=es" in page.url
        page.screenshot(path=str(ARTIFACTS / "3-explore-es.png"), full_page=True)

        # The shared link opens the same model in a fresh browser session.
        other = browser.new_page(viewport={"width": 1400, "height": 1200})
        other.goto(shared_link)
        expect(other.get_by_text("43,706")).to_be_visible(timeout=60_000)
        expect(other.get_by_text("Trained before: results come from the cache.")).to_be_visible()
        other.close()

        page.get_by_role("link", name="Comparar entrenamientos").first.click()
        expect(page.get_by_role("heading", name="Comparar entrenamientos")).to_be_visible(timeout=20_000)
        assert "lang=es" in page.url
        page.screenshot(path=str(ARTIFACTS / "4-compare-es.png"), full_page=True)
        browser.close()


def test_a_shared_deep_link_opens_the_full_app_on_a_fresh_server(server):
    """The first request after a restart is a teacher's link to the explore page, in Spanish."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server + "/explore?lang=es")
        expect(page.get_by_role("heading", name="Explorar mapas de activación")).to_be_visible(timeout=90_000)
        expect(page.get_by_text("Aún no hay modelos entrenados")).to_be_visible()
        expect(page.get_by_text("Idioma")).to_be_visible()  # the app shell ran: language switch in the sidebar
        expect(page.get_by_role("link", name="Construir y entrenar")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "5-deep-link-es.png"))
        browser.close()
