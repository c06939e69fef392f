"""What every page shares in the browser: the document's language and title, and the styles that keep text
readable (contrast), focus visible and touch targets large on every classroom screen."""
from __future__ import annotations

import json

import streamlit as st

from .state import BROWSER_COOKIE

# Streamlit's captions are #808495-ish on white (3.9:1); WCAG AA needs 4.5:1 for small text. #4a4f5c gives 8:1.
CAPTION_COLOR = "#4a4f5c"
FOCUS_COLOR = "#0b5cad"
TOUCH_TARGET = "44px"  # WCAG 2.5.5's size, and what a finger on a tablet needs

STYLES = f"""<style>
/* A 1024-px projector with the sidebar open leaves about 560 px between Streamlit's 5rem side margins. */
@media (max-width: 1280px) {{ [data-testid='stMainBlockContainer'] {{ padding-left: 1.5rem; padding-right: 1.5rem; }} }}
[data-testid='stCaptionContainer'] {{ opacity: 1 !important; }}
[data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] * {{ color: {CAPTION_COLOR} !important; }}
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, [role='slider']:focus-visible,
[role='tab']:focus-visible, [role='radio']:focus-visible, [tabindex]:focus-visible, summary:focus-visible {{
  outline: 3px solid {FOCUS_COLOR} !important; outline-offset: 2px !important; }}
[data-testid='stButton'] button, [data-testid='stDownloadButton'] button, [data-testid='stPageLink'] a,
[data-testid='stSidebarNavLink'] {{ min-height: {TOUCH_TARGET}; }}
/* Column rows in a "wrap_" container wrap instead of squeezing words ("Entrena-miento") and tables to nothing. */
[class*='st-key-wrap_'] > div > [data-testid='stHorizontalBlock'],
[class*='st-key-wrap_'] > [data-testid='stHorizontalBlock'] {{ flex-wrap: wrap !important; }}
[class*='st-key-wrap_'] > div > [data-testid='stHorizontalBlock'] > [data-testid='stColumn'],
[class*='st-key-wrap_'] > [data-testid='stHorizontalBlock'] > [data-testid='stColumn'] {{
  min-width: min(100%, 15rem) !important; }}
.st-key-wrap_presets > div > [data-testid='stHorizontalBlock'] > [data-testid='stColumn'],
.st-key-wrap_presets > [data-testid='stHorizontalBlock'] > [data-testid='stColumn'] {{
  min-width: min(100%, 12rem) !important; }}
/* Column headings are level 3 (in order under the page's level 2) at the size of a level 4. */
[data-testid='stMain'] [data-testid='stMarkdownContainer'] h3 {{ font-size: 1.25rem; }}
/* Preset names wrap instead of being cut ("CNN rápida, relleno same, 5 é…"). */
.st-key-wrap_presets button * {{ white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; }}
/* Headings' "link to heading" anchors: a Tab stop each on every heading, of no use in class. */
[data-testid='stHeaderActionElements'] {{ display: none !important; }}
.st-key-wrap_explore > div > [data-testid='stHorizontalBlock'] > [data-testid='stColumn'],
.st-key-wrap_explore > [data-testid='stHorizontalBlock'] > [data-testid='stColumn'] {{
  min-width: min(100%, 13rem) !important; }}
/* Rows of controls that stay one row on a phone (Previous · Play · Next). */
[class*='st-key-nowrap_'] [data-testid='stHorizontalBlock'] {{ flex-wrap: nowrap !important; gap: 0.4rem !important; }}
[class*='st-key-nowrap_'] [data-testid='stColumn'] {{ min-width: 0 !important; flex: 1 1 0 !important;
  width: auto !important; }}
[data-testid='stColumn'] {{ scroll-margin-top: 4.5rem; }}  /* below Streamlit's sticky top bar */
#prediction:focus {{ outline: 3px solid {FOCUS_COLOR}; outline-offset: 2px; }}
</style>"""


# One random name per browser, shared by its tabs (state.student_id): the fair queue's unit. Set once, for a year.
BROWSER_COOKIE_SCRIPT = (
    "if (!document.cookie.split('; ').some(c => c.startsWith('{name}='))) {{"
    " const bytes = crypto.getRandomValues(new Uint8Array(16));"
    " document.cookie = '{name}=' + Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')"
    " + '; path=/; max-age=31536000; SameSite=Lax'; }}")


def page_shell(language: str, page_title: str) -> None:
    """Styles, `<html lang>`, the tab's title and the browser's name for the page being shown (style- and
    script-only HTML takes no space on the page)."""
    st.html(STYLES)
    st.html(f"<script>document.documentElement.lang = {json.dumps(language)}; "
            f"document.title = {json.dumps(page_title)}; "
            f"{BROWSER_COOKIE_SCRIPT.format(name=BROWSER_COOKIE)}</script>", unsafe_allow_javascript=True)
