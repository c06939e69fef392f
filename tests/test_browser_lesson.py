"""The guided lesson in real Chromium, in Spanish: every step shows its result and what to notice from the cache."""
import pytest
from test_accessibility import serious
from test_browser import CHROMIUM, LAUNCH_ARGS, server  # noqa: F401  (the fixture)

from conftest import ARTIFACTS
from fmnist_core.cache import open_store
from fmnist_core.data import FashionMNIST
from fmnist_core.runs import train_run
from fmnist_ui.guide import STEPS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def prepared_home(isolated_home, data):
    """The lesson's runs trained ahead, as `precompute` does before class (on fewer images: the walk is the test)."""
    few = FashionMNIST(data.train_images[:2000], data.train_labels[:2000], data.test_images[:2000],
                       data.test_labels[:2000], data.source)
    store = open_store(isolated_home)
    for run in {run for step in STEPS for run in step.runs}:
        train_run(run, store, isolated_home, data=few)
    return isolated_home


def test_a_student_walks_the_whole_lesson_in_spanish(prepared_home, server):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from benchmarks.lesson_walk import walk_lesson

    screens = ARTIFACTS / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        problems = {}

        def look(position):
            page.screenshot(path=str(screens / f"phone-es-lesson-step{position}.png"))
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            problems[position] = serious(page)

        timings = walk_lesson(page, server, "es", on_step=look)
        assert not any(problems.values()), problems
        assert [heading.split(".")[0] for heading, _ in timings] == [str(n) for n in range(1, len(STEPS) + 1)]
        assert page.locator("html").get_attribute("lang") == "es"
        assert f"step={len(STEPS)}" in page.url
        page.reload()  # progress survives a reload
        page.get_by_role("heading", level=3).filter(has_text=f"{len(STEPS)}. ").first.wait_for(timeout=60_000)
        browser.close()
    print("\n".join(f"{heading}: {seconds:.1f} s" for heading, seconds in timings))
