"""Test images as one grid of buttons (Streamlit components v2, inline HTML/CSS/JS, no build step). Each tile is a
real <button>: the picture and its number, named "#7" and described by the picture's text alternative; the chosen
one is pressed. A page of 20 thumbnails is one element for the server to send instead of 20 images, 20 buttons and
7 rows of columns, which were most of what a click cost it under a class's load (BENCHMARKS.md, #26)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial

import streamlit as st

from fmnist_core.images import digit_image, png_bytes, png_data_address

from . import state
from .describe import test_image_alt
from .shell import FOCUS_COLOR, TOUCH_TARGET

THUMBNAIL_PIXELS = 56
COLUMNS = 3  # 4 left 43-pixel tiles at 1280 px, too narrow for "#26" or a filtered "#9876"
COMPONENT_NAME = "fmnist_image_buttons"
# The state value a click sets: [index, the click's time]. The time makes every click a change, so picking the
# image that is already chosen, after a link or the mistakes list chose it, still reaches `on_pick_change`. (A
# trigger value would say "a click" better, but a callback reads it only through the component's state, which the
# session may not hold yet on its first click.)
EVENT = "pick"


@dataclass(frozen=True)
class ImageButton:
    """One tile: the test image's index, its picture as a data address, and what a screen reader says of it."""

    index: int
    picture: str
    description: str


HTML = '<div class="grid" role="group"></div>'

CSS = f"""
.grid {{ display: grid; grid-template-columns: repeat({COLUMNS}, minmax(0, 1fr)); gap: 0.4rem; }}
button {{ display: flex; flex-direction: column; align-items: stretch; gap: 0.2rem; min-width: 0;
  min-height: {TOUCH_TARGET}; padding: 0.25rem; margin: 0; cursor: pointer; border-radius: 0.5rem;
  font-family: var(--st-font, sans-serif); font-size: 1rem; line-height: 1.4;
  color: var(--st-text-color, #31333f); background: var(--st-background-color, #fff);
  border: 1px solid var(--st-border-color, #d5d6d8); }}
button:hover {{ border-color: var(--st-text-color, #31333f); }}
button:focus-visible {{ outline: 3px solid {FOCUS_COLOR}; outline-offset: 2px; }}
img {{ display: block; width: 100%; height: auto; aspect-ratio: 1; border-radius: 0.25rem;
  image-rendering: pixelated; }}
span {{ display: block; text-align: center; border-radius: 0.25rem; overflow-wrap: anywhere; }}
/* The chosen image: a thick frame and its number in inverted colours, legible without colour vision. */
button[aria-pressed="true"] {{ border: 3px solid var(--st-text-color, #31333f); padding: calc(0.25rem - 2px); }}
button[aria-pressed="true"] span {{ background: var(--st-text-color, #31333f);
  color: var(--st-background-color, #fff); font-weight: 600; }}
"""

# Called after every rerun with the same grid: the tiles are rebuilt only when the images shown change (a new
# page or class filter), so a click keeps the grid, its scroll position and the focus where they are.
JS = """
export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const grid = parentElement.querySelector(".grid");
  grid.setAttribute("aria-label", data.label);
  const shown = JSON.stringify(data.tiles.map((tile) => [tile.index, tile.description]));
  if (grid.dataset.shown !== shown) {
    grid.dataset.shown = shown;
    grid.replaceChildren(...data.tiles.map((tile) => {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.index = String(tile.index);
      button.title = tile.description;
      const picture = document.createElement("img");
      picture.src = tile.picture;
      picture.alt = "";
      const number = document.createElement("span");
      number.textContent = "#" + tile.index;
      button.append(picture, number);
      button.onclick = () => setStateValue(data.event, [tile.index, Date.now()]);
      return button;
    }));
  }
  for (const button of grid.children) {  // a grid without a choice (the mistakes list) has plain buttons
    if (data.selected === null) button.removeAttribute("aria-pressed");
    else button.setAttribute("aria-pressed", String(Number(button.dataset.index) === data.selected));
  }
}
"""

_grid = st.components.v2.component(COMPONENT_NAME, html=HTML, css=CSS, js=JS)


def test_image_address(index: int, size: int) -> str:
    """Test image `index` enlarged to `size` pixels, as a PNG data address: it travels inside the page's own
    message, so no media file is stored, looked up or fetched per image and per click."""
    return png_data_address(png_bytes(digit_image(state.dataset().test_images[index], size=size)))


# 11 gallery filters × 5 pages, and the mistakes lists of a few runs: 500 entries of 20–24 pictures (about 30 KB)
# stay under 16 MB.
GRID_PAGE_ENTRIES = 500


@st.cache_resource(show_spinner=False, max_entries=GRID_PAGE_ENTRIES)
def thumbnail_addresses(indices: tuple[int, ...]) -> tuple[str, ...]:
    """The grid's pictures: one entry per page of a grid, kept once for every session."""
    return tuple(test_image_address(index, THUMBNAIL_PIXELS) for index in indices)


def test_image_tiles(indices: list[int], names: tuple[str, ...]) -> list[ImageButton]:
    """Tiles of these test images, each described by its number and true class (`names`: the session's)."""
    labels = state.test_labels()
    return [ImageButton(index, picture, test_image_alt(index, names[labels[index]]))
            for index, picture in zip(indices, thumbnail_addresses(tuple(indices)), strict=True)]


def _picked(key: str, shown: frozenset[int], on_pick) -> None:
    """A click on the grid, before the script runs. The value comes from the browser: only an image that was shown
    counts."""
    value = (st.session_state.get(key) or {}).get(EVENT)
    if (isinstance(value, list) and len(value) == 2 and type(value[0]) is int and value[0] in shown
            and type(value[1]) in (int, float)):
        on_pick(value[0])


def image_buttons(key: str, label: str, tiles: list[ImageButton], selected: int | None, on_pick) -> None:
    """Show `tiles` as buttons in COLUMNS columns, `selected` pressed; a click calls `on_pick(index)` before the
    script reruns. `label` names the group for a screen reader."""
    _grid(key=key, data={"label": label, "selected": selected, "event": EVENT,
                         "tiles": [asdict(tile) for tile in tiles]},
          **{f"on_{EVENT}_change": partial(_picked, key, frozenset(tile.index for tile in tiles), on_pick)})
