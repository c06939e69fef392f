"""What every page shares in the browser: the document's language and title, and the styles that keep text
readable (contrast), focus visible and touch targets large on every classroom screen."""
from __future__ import annotations

import json

import streamlit as st

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
</style>"""


def page_shell(language: str, page_title: str) -> None:
    """Styles, `<html lang>` and the tab's title for the page being shown (style- and script-only HTML takes no
    space on the page)."""
    st.html(STYLES)
    st.html(f"<script>document.documentElement.lang = {json.dumps(language)}; "
            f"document.title = {json.dumps(page_title)};</script>", unsafe_allow_javascript=True)
