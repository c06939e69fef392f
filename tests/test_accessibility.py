"""WCAG 2.1 AA in real Chromium: axe-core over every page and view, in both languages, after a real run;
the lesson path by keyboard alone; screenshots at the four classroom screen sizes into test-artifacts/."""
import pytest
from test_browser import CHROMIUM, LAUNCH_ARGS, server, wait_for_app_idle  # noqa: F401  (server is a fixture)

from conftest import ARTIFACTS, tiny_cnn_run, tiny_mlp_run
from fmnist_ui.i18n import LANGUAGES

pytestmark = [pytest.mark.browser]

SIZES = {"phone": (390, 844), "tablet": (820, 1180), "projector": (1024, 768), "laptop": (1366, 768)}
PAGES = {"train": "", "lesson": "lesson", "convolution": "convolution", "explore": "explore", "pair": "pair",
         "compare": "compare", "board": "board"}


def text_in(lang: str, key: str) -> str:
    """A text of the app as a student reading `lang` sees it."""
    from fmnist_ui.i18n import english_text, translations

    return translations(lang).pgettext(key, english_text(key))


def explore_views(lang: str) -> list[str]:
    return [text_in(lang, f"tab_{view}") for view in ("compare", "errors", "looked")]


@pytest.fixture
def trained(isolated_home, small_data):
    """A CNN and an MLP trained for real in the server's home, both on the board."""
    from fmnist_core.cache import open_store
    from fmnist_core.runs import train_run

    store = open_store(isolated_home)
    runs = [tiny_cnn_run(), tiny_mlp_run()]
    for run in runs:
        train_run(run, store, isolated_home, data=small_data, owner="classmate")
        store.post(run.key, "classmate")
    return runs


SETTLED = ("() => document.querySelectorAll('[data-stale=\"true\"], [data-testid=\"stSkeleton\"]').length === 0 "
           "&& Array.from(document.images).every(image => image.complete)")


def settle(page) -> None:
    """Wait until the script has finished, nothing is stale or a placeholder, every image is loaded, and
    Streamlit's fade-in is over (axe would measure a half-faded colour, a screenshot would show skeletons)."""
    wait_for_app_idle(page, timeout=90_000)
    page.wait_for_function(SETTLED, timeout=60_000)
    page.wait_for_timeout(1200)


def serious(page) -> list[str]:
    """axe-core's serious and critical violations on the page once it has settled, one line per rule."""
    from axe_playwright_python.sync_playwright import Axe

    settle(page)

    results = Axe().run(page, options={"resultTypes": ["violations"],
                                       "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                                             "wcag21aa"]}})
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [" ".join(map(str, node["target"]))[-60:] + " " + node.get("html", "")[:120] + " "
                       + str((node.get("any") or [{}])[0].get("data", ""))[:160] for node in violation["nodes"]][:3]
            lines.append(f"{violation['id']} ×{len(violation['nodes'])}: {targets}")
    return lines


def open_page(browser, server_url, query, size):
    from playwright.sync_api import expect

    width, height = SIZES[size]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server_url}/{query}")
    expect(page.get_by_test_id("stApp")).to_be_visible(timeout=90_000)
    settle(page)
    return page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_and_view_has_no_serious_accessibility_violation(server, trained, lang):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from fmnist_ui.share import encode_run

    cnn = trained[0]
    found = {}
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        for name, path in PAGES.items():
            query = {"train": f"?spec={encode_run(cnn)}&lang={lang}", "explore": f"?run={cnn.key}&image=7&lang={lang}"}
            page = open_page(browser, server, f"{path}{query.get(name, f'?lang={lang}')}", "laptop")
            found[name] = serious(page)
            assert page.evaluate("document.documentElement.lang") == lang
            if name == "explore":
                for view in explore_views(lang):
                    page.get_by_text(view, exact=True).click()
                    wait_for_app_idle(page)
                    page.wait_for_timeout(500)
                    found[f"explore/{view}"] = serious(page)
            page.close()
        browser.close()
    problems = {name: lines for name, lines in found.items() if lines}
    assert not problems, "\n".join(f"{name}: {line}" for name, lines in problems.items() for line in lines)


@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots_at_the_classroom_screen_sizes(server, trained, size):  # noqa: F811
    """Build & train, the convolution page and Explore (image #7 chosen) at each size, in every language, into
    test-artifacts/screens: look at them. Checks what a screenshot can: no text wider than the page, the
    prediction in view after the click."""
    from playwright.sync_api import expect, sync_playwright

    from fmnist_ui.share import encode_run

    cnn = trained[0]
    folder = ARTIFACTS / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        for lang in LANGUAGES:
            for name, query in (("train", f"?spec={encode_run(cnn)}&lang={lang}"),
                                ("convolution", f"convolution?lang={lang}")):
                page = open_page(browser, server, query, size)
                page.screenshot(path=str(folder / f"{size}-{lang}-{name}.png"), full_page=name == "convolution")
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
                page.close()
            page = open_page(browser, server, f"explore?run={cnn.key}&image=0&lang={lang}", size)
            page.get_by_role("button", name="#7", exact=True).click()
            prediction = page.locator("[role='status']")
            expect(prediction).to_contain_text(text_in(lang, "class_6"), timeout=30_000)
            settle(page)
            page.screenshot(path=str(folder / f"{size}-{lang}-explore.png"))
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            expect(prediction).to_be_in_viewport()
            page.close()
        browser.close()


def tab_to(page, matches: str, limit: int = 150) -> int:
    """Press Tab until the focused element satisfies the JavaScript predicate `matches` (given `element`);
    return how many presses it took. Every stop on the way must show a visible focus ring."""
    visited = []
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        page.wait_for_timeout(30)
        state = page.evaluate(f"""() => {{
            let element = document.activeElement;  // inside a component's shadow root, the element it focuses
            while (element.shadowRoot && element.shadowRoot.activeElement) element = element.shadowRoot.activeElement;
            const style = getComputedStyle(element);
            const ring = parseFloat(style.outlineWidth) >= 2 && style.outlineStyle !== 'none'
                || style.boxShadow !== 'none';
            return [({matches})(element), ring, element.outerHTML.slice(0, 120)];
        }}""")
        found, ring, html = state
        visited.append(html[:60])
        assert ring or html.startswith("<body") or html.startswith("<iframe"), f"no visible focus on {html}"
        if found:
            print(f"  {presses} Tab presses: " + " | ".join(visited))
            return presses
    raise AssertionError(f"no element matching {matches} within {limit} Tab presses: {visited}")


def test_the_lesson_path_by_keyboard_alone(server):  # noqa: F811
    """Preset → Train → Explore → image #7 → the prediction, with Tab, Enter and Space only."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = open_page(browser, server, "", "laptop")
        presses = {"skip": tab_to(page, "e => e.dataset.testid === 'stSkipToContent'")}
        page.keyboard.press("Enter")  # Streamlit's own skip link, first stop of every page: past the sidebar
        presses["preset"] = tab_to(page, "e => e.tagName === 'BUTTON' && e.innerText.includes('Fast CNN (default)')")
        page.keyboard.press("Enter")
        settle(page)
        presses["train"] = tab_to(page, "e => e.tagName === 'BUTTON' && e.innerText.trim() === 'Train'")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Finished: 2 epochs in")).to_be_visible(timeout=240_000)
        settle(page)
        presses["explore"] = tab_to(page, "e => e.tagName === 'A' && e.innerText.includes('Explore this model')")
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="#7", exact=True)).to_be_visible(timeout=60_000)
        settle(page)
        presses["image"] = tab_to(page, "e => e.tagName === 'BUTTON' && e.innerText.trim() === '#7'")
        page.keyboard.press("Enter")
        prediction = page.locator("#prediction")
        expect(prediction).to_contain_text("Predicted:", timeout=30_000)
        expect(prediction).to_be_focused(timeout=10_000)
        expect(prediction).to_be_in_viewport()
        total = sum(presses.values())
        print(f"Tab presses along the lesson path: {presses}, {total} in all")
        (ARTIFACTS / "keyboard-path.txt").write_text(f"{presses} total {total}\n")
        assert total <= 50  # 73 before the skip link was used, heading anchors hidden and the table made static
        browser.close()
