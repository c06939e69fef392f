"""A drawing pad (Streamlit components v2, inline HTML/JS, no build step): draw a garment in white on black,
as Fashion-MNIST shows them; each finished stroke sends the canvas to Python as a PNG data URL."""
from __future__ import annotations

import base64

import streamlit as st

from fmnist_core.images import PNG_DATA_PREFIX

HTML = """
<div class="pad">
  <canvas width="280" height="280" aria-label="drawing pad"></canvas>
  <button type="button" class="clear"></button>
</div>
"""

CSS = """
.pad { display: flex; flex-direction: column; gap: 0.5rem; align-items: flex-start; }
canvas { width: 100%; min-width: min(100%, 220px); max-width: 280px; aspect-ratio: 1; background: black;
         border-radius: 0.5rem;
         touch-action: none; cursor: crosshair; }
.clear { font: inherit; min-height: 44px; padding: 0.25rem 0.75rem; border-radius: 0.5rem; cursor: pointer;
         border: 1px solid var(--st-border-color, #ccc); background: var(--st-background-color, white);
         color: var(--st-text-color, black); }
"""

JS = """
export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const canvas = parentElement.querySelector("canvas");
  const clear = parentElement.querySelector(".clear");
  const pen = canvas.getContext("2d");
  clear.textContent = data.clear_label;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", data.pad_label);
  const blank = () => { pen.fillStyle = "black"; pen.fillRect(0, 0, canvas.width, canvas.height); };
  // Called again after every rerun with the same canvas: keep what is on it. Only a new canvas (the pad shown
  // again after a page switch) starts blank and gets back the last drawing.
  if (!canvas.dataset.ready) {
    canvas.dataset.ready = "1";
    blank();
    if (data.drawing) {
      const picture = new Image();
      picture.onload = () => pen.drawImage(picture, 0, 0);
      picture.src = data.drawing;
    }
  }
  pen.strokeStyle = "white"; pen.lineWidth = 24; pen.lineCap = "round"; pen.lineJoin = "round";
  // The stroke in progress lives on the canvas: a rerun in the middle of a stroke must not end it.
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width,
            (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.onpointerdown = (event) => {
    canvas.drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = at(event);
    pen.beginPath(); pen.moveTo(x, y); pen.lineTo(x + 0.1, y); pen.stroke();
  };
  canvas.onpointermove = (event) => {
    if (!canvas.drawing) return;
    const [x, y] = at(event);
    pen.lineTo(x, y); pen.stroke();
  };
  const finish = () => {
    if (!canvas.drawing) return;
    canvas.drawing = false;
    setStateValue("drawing", canvas.toDataURL("image/png"));
  };
  canvas.onpointerup = finish;
  canvas.onpointercancel = finish;
  clear.onclick = () => { blank(); setStateValue("drawing", null); };
}
"""

_pad = st.components.v2.component("fmnist_drawing_pad", html=HTML, css=CSS, js=JS)


def drawing_pad(key: str, clear_label: str, on_change, pad_label: str = "drawing pad") -> None:
    """Show the pad; `on_change` runs (before the script) after each stroke or clear. `pad_label` names it for a
    screen reader, in the session's language."""
    _pad(key=key, data={"clear_label": clear_label, "pad_label": pad_label, "drawing": drawn_png_url(key)},
         on_drawing_change=on_change)


def drawn_png_url(key: str) -> str | None:
    state = st.session_state.get(key) or {}
    value = state.get("drawing") if hasattr(state, "get") else None
    return value if isinstance(value, str) and value.startswith(PNG_DATA_PREFIX) else None


def drawn_png(key: str) -> bytes | None:
    """The pad's current drawing as PNG bytes, or None when it is empty or not a PNG data URL."""
    url = drawn_png_url(key)
    if url is None:
        return None
    try:
        return base64.b64decode(url[len(PNG_DATA_PREFIX):], validate=True)
    except ValueError:
        return None
