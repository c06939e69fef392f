"""The guided lesson walked in real Chromium, step by step, as a student would: prints how long each step took from
the click on "Next" until its result and "what to notice" were on screen. Run by hand on a prepared server:

    FMNIST_HOME=/srv/fmnist .venv/bin/python -m fmnist_core precompute      # once, before class
    .venv/bin/python benchmarks/lesson_walk.py --home /srv/fmnist --lang es --think 20

`--think` adds the seconds a student spends reading and answering each step, to estimate a whole lesson.
The browser test (tests/test_browser_lesson.py) runs the same walk on a small prepared home."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load_test import CHROMIUM, LAUNCH_ARGS, start_server  # noqa: E402
from fmnist_ui.guide import STEPS  # noqa: E402

NEXT = {"en": "Next:", "es": "Siguiente:"}


def walk_lesson(page, url: str, lang: str, on_step=None) -> list[tuple[str, float]]:
    """Open the Lesson page and go through every step; (step heading, seconds until its notice showed).
    `on_step(position)` is called on each step once it is shown (to look at it: axe, a screenshot)."""
    from playwright.sync_api import expect

    timings = []
    started = time.perf_counter()
    page.goto(f"{url}/lesson?lang={lang}")
    for position in range(1, len(STEPS) + 1):
        heading = page.get_by_role("heading", level=3).filter(has_text=f"{position}. ").first
        expect(heading).to_be_visible(timeout=60_000)
        # the run that drew it has ended (Streamlit's own end-to-end tests wait on this attribute)
        expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning",
                                                               timeout=120_000)
        notice = page.locator("[data-testid='stAlertContentSuccess']").first
        expect(notice).to_be_visible(timeout=120_000)
        if STEPS[position - 1].images:  # the step's pictures are part of its answer
            expect(page.locator("[data-testid='stImage'] img").last).to_be_visible(timeout=30_000)
        timings.append((heading.inner_text(), time.perf_counter() - started))
        if on_step is not None:
            on_step(position)
        if position < len(STEPS):
            started = time.perf_counter()
            page.get_by_role("button", name=NEXT[lang]).click()
            expect(page.get_by_role("heading", level=3).filter(has_text=f"{position + 1}. ").first).to_be_visible(
                timeout=60_000)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a prepared FMNIST_HOME (precompute)")
    parser.add_argument("--lang", choices=("en", "es"), default="en")
    parser.add_argument("--think", type=float, default=0.0, help="seconds of reading per step, for the estimate")
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--height", type=int, default=768)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    process, url = start_server(args.home, max_jobs=1)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            timings = walk_lesson(page, url, args.lang)
            browser.close()
    finally:
        process.terminate()
    print(f"| step | seconds until the result and notice showed ({args.width}×{args.height}, {args.lang}) |")
    print("|---|---|")
    for heading, seconds in timings:
        print(f"| {heading} | {seconds:.1f} |")
    waiting = sum(seconds for _, seconds in timings)
    print(f"\nwaiting in all: {waiting:.0f} s; with {args.think:.0f} s of reading per step: "
          f"{(waiting + args.think * len(timings)) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
