"""A school's server in real Chromium (issue #22): the teacher's door, two classes side by side in separate browser
contexts, the projector's address."""
import re

import pytest
from test_browser import CHROMIUM, LAUNCH_ARGS, wait_for_app_idle

from conftest import ARTIFACTS, streamlit_server
from fmnist_core.teacher import teacher_code

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PUBLIC_URL = "https://explorer.school.example"


@pytest.fixture
def school(isolated_home, tmp_path):
    """A server with its log in a file, students' links on a public address; (url, log path, teacher code)."""
    log = tmp_path / "server.log"
    with streamlit_server(isolated_home, log_path=log, FMNIST_PUBLIC_URL=PUBLIC_URL) as url:
        yield url, log, teacher_code(isolated_home)


def open_teacher(browser, url, code, name):
    """A teacher's browser: open the link from the server's log, create a class; (page, class code)."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(f"{url}/?teacher={code}")
    expect(page.get_by_text("Teacher mode", exact=True)).to_be_visible(timeout=90_000)
    wait_for_app_idle(page)
    assert code not in page.url  # gone from the address bar at once
    page.get_by_label("Name of a new class").fill(name)
    page.get_by_role("button", name="Create the class").click()
    heading = page.get_by_text(re.compile(rf"Class {name} · code"))
    expect(heading).to_be_visible(timeout=30_000)
    class_code = heading.inner_text().split("code")[1].strip().replace(" ", "")
    assert code not in page.url and f"c={class_code}" in page.url
    return page, class_code


def test_teacher_1_opens_nothing_and_the_log_has_the_teachers_link(school):
    from playwright.sync_api import expect, sync_playwright

    url, log, code = school
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1024, "height": 768})
        page.goto(f"{url}/?teacher=1")
        expect(page.get_by_role("button", name="Train", exact=True)).to_be_visible(timeout=90_000)
        wait_for_app_idle(page)
        expect(page.get_by_text("Teacher mode", exact=True)).to_have_count(0)
        expect(page.get_by_text("That teacher code is not right")).to_be_visible()
        assert "teacher=" not in page.url
        browser.close()
    assert f"/?teacher={code}" in log.read_text()  # printed once, for the person who started the server


def test_two_classes_keep_their_boards_and_jobs_apart_and_share_the_cache(school):
    from playwright.sync_api import expect, sync_playwright

    url, _, code = school
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        first_teacher, first = open_teacher(browser, url, code, "Period 1")
        second_teacher, second = open_teacher(browser, url, code, "Period 2")

        # The projector: a QR and a link on the address students reach, the code in two groups.
        first_teacher.get_by_role("button", name="Show the code and QR on the projector").click()
        dialog = first_teacher.get_by_role("dialog")
        expect(dialog.get_by_text(f"{PUBLIC_URL}/?c={first}")).to_be_visible(timeout=20_000)
        expect(dialog.get_by_role("paragraph").filter(has_text=f"{first[:3]} {first[3:]}").first).to_be_visible()
        expect(dialog.get_by_role("img", name=re.compile("QR code that opens"))).to_be_visible()
        first_teacher.wait_for_timeout(500)  # the image's pixels
        first_teacher.screenshot(path=str(ARTIFACTS / "classes-projector.png"))
        first_teacher.keyboard.press("Escape")

        students = {}  # each opens the class's link; both classes start from the default model their teacher had
        for name, class_code in (("ana", first), ("bea", second)):
            page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            page.goto(f"{url}/?c={class_code}")
            expect(page.get_by_text("You are in class")).to_be_visible(timeout=90_000)
            students[name] = page
        students["ana"].get_by_role("button", name="Train", exact=True).click()
        expect(students["ana"].get_by_text(re.compile(r"Finished: \d+ epochs? in"))).to_be_visible(timeout=240_000)
        wait_for_app_idle(students["bea"])
        students["bea"].get_by_role("button", name="Train", exact=True).click()  # the same spec, another class
        expect(students["bea"].get_by_text("Trained before: results come from the cache.")).to_be_visible(
            timeout=30_000)

        wait_for_app_idle(students["ana"])  # then a job of period 1 that is still training: 30 epochs
        epochs = students["ana"].locator("[data-testid='stSlider']", has_text="Epochs").get_by_role("slider")
        epochs.focus()
        epochs.press("End")
        wait_for_app_idle(students["ana"])
        students["ana"].get_by_role("button", name="Train", exact=True).click(timeout=90_000)
        # the app's Stop, not Streamlit's own header Stop that shows while a rerun runs
        expect(students["ana"].get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop", exact=True)
               ).to_be_visible(timeout=60_000)

        for teacher, jobs in ((first_teacher, 1), (second_teacher, 0)):
            teacher.get_by_role("link", name="Class board").first.click()
            # its own student only
            expect(teacher.get_by_text(re.compile(r"runs? from 1 browser ·"))).to_be_visible(timeout=30_000)
            expect(teacher.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop", exact=True)
                   ).to_have_count(jobs, timeout=20_000)
        expect(second_teacher.get_by_text("No job is running or waiting.")).to_be_visible()
        second_teacher.screenshot(path=str(ARTIFACTS / "classes-board-period-2.png"), full_page=True)

        second_teacher.get_by_role("button", name=re.compile("^Clear the board")).click()
        second_teacher.get_by_role("button", name="Clear the board", exact=True).click()
        expect(second_teacher.get_by_text("No runs on the board yet")).to_be_visible(timeout=20_000)
        first_teacher.wait_for_timeout(6_000)  # the board refreshes every 5 s: period 1's is untouched
        expect(first_teacher.get_by_text(re.compile(r"runs? from 1 browser ·"))).to_be_visible()
        first_teacher.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop", exact=True).click()
        expect(first_teacher.get_by_text("No job is running or waiting.")).to_be_visible(timeout=60_000)
        browser.close()
