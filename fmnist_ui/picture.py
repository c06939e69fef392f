"""Which picture Explore shows: a test image from the gallery, an uploaded photo or a drawing.
The selection lives in `st.session_state[keys.SELECTED_IMAGE]`: a test-set index, or UPLOAD for "your picture"."""
from __future__ import annotations

import streamlit as st

from fmnist_core.uploads import MAX_UPLOAD_BYTES, ImageInputError, prepare_upload

from . import keys, state
from .drawing import drawing_pad, drawn_png
from .i18n import class_names, current_language, t
from .image_buttons import image_buttons, test_image_address, test_image_tiles
from .widgets import column_heading

GALLERY_SIZE = 100
GALLERY_PAGE = 20
UPLOAD = -1  # the selection value of "your picture"


@st.cache_resource(show_spinner=False, max_entries=2000)
def thumbnail(index: int, size: int) -> str:
    """Test image `index` enlarged to `size` pixels (a data address, shown as it is, never re-encoded)."""
    return test_image_address(index, size)


def select_image(index: int) -> None:
    st.session_state[keys.SELECTED_IMAGE] = index
    st.session_state[keys.FOCUS_PREDICTION] = True  # the answer follows the click (see explore's `bring_into_view`)


def use_picture(raw: bytes | None) -> None:
    """Decode an uploaded or drawn picture once; keep the 28×28 tensor (selected) or the reason it was refused."""
    st.session_state.pop(keys.UPLOAD_ERROR, None)
    st.session_state.pop(keys.UPLOAD_TENSOR, None)
    if raw is None:
        if st.session_state.get(keys.SELECTED_IMAGE) == UPLOAD:
            st.session_state[keys.SELECTED_IMAGE] = 0
        return
    try:
        tensor, picture = prepare_upload(raw)
    except ImageInputError as error:
        st.session_state[keys.UPLOAD_ERROR] = (error.code, error.values)
        return
    picture.thumbnail((224, 224))
    st.session_state[keys.UPLOAD_TENSOR] = tensor
    st.session_state[keys.UPLOAD_PICTURE] = picture
    st.session_state[keys.SELECTED_IMAGE] = UPLOAD


def read_upload() -> None:
    uploaded = st.session_state.get("upload")
    use_picture(uploaded.getvalue() if uploaded is not None else None)


def read_drawing() -> None:
    use_picture(drawn_png("drawing_pad"))


def upload_box() -> None:
    st.file_uploader(t("upload"), type=["png", "jpg", "jpeg", "webp", "gif"], key="upload",
                     on_change=read_upload, help=t("upload_help"), max_upload_size=MAX_UPLOAD_BYTES // 2**20)
    with st.expander(t("draw_title"), icon=":material/draw:"):
        st.caption(t("draw_help"))
        drawing_pad("drawing_pad", t("draw_clear"), on_change=read_drawing, pad_label=t("draw_pad_label"))
    if keys.UPLOAD_ERROR in st.session_state:
        code, values = st.session_state[keys.UPLOAD_ERROR]
        st.error(t("upload_rejected", reason=t(f"upload_{code}", **values)))
    elif keys.UPLOAD_TENSOR in st.session_state:
        st.button(t("your_picture"), key="pick_upload", on_click=select_image, args=(UPLOAD,), width="stretch",
                  icon=":material/photo_camera:",
                  type="primary" if st.session_state.get(keys.SELECTED_IMAGE) == UPLOAD else "secondary")


def image_of(selection: int) -> tuple:
    """(uint8 28×28 image, true class or None, caption) of a test image index or of the upload."""
    if selection == UPLOAD and keys.UPLOAD_TENSOR in st.session_state:
        return st.session_state[keys.UPLOAD_TENSOR], None, t("your_picture")
    return state.dataset().test_images[selection], state.test_labels()[selection], f"#{selection}"


def gallery() -> None:
    """Upload, drawing pad and the first 100 test images (20 at a time, filterable by class) as buttons."""
    names = class_names(current_language())
    upload_box()
    column_heading(t("gallery"))
    st.caption(t("gallery_hint"))
    choice = st.selectbox(t("class_filter"), [-1, *range(10)], key="class_filter",
                          format_func=lambda c: t("all_classes") if c < 0 else names[c])
    labels = state.test_labels()
    pool = range(len(labels)) if choice >= 0 else range(GALLERY_SIZE)
    matching = [index for index in pool if choice < 0 or labels[index] == choice][:GALLERY_SIZE]
    # 20 thumbnails at a time: every click re-renders the gallery, and 100 of them were most of a click's cost.
    pages = [matching[start:start + GALLERY_PAGE] for start in range(0, len(matching), GALLERY_PAGE)]
    selected = st.session_state.get(keys.SELECTED_IMAGE)
    holding = next((number for number, page in enumerate(pages) if selected in page), 0)
    if st.session_state.get(keys.GALLERY_PAGE, 0) >= len(pages):  # the class filter left fewer pages
        st.session_state.pop(keys.GALLERY_PAGE, None)
    number = 0
    if len(pages) > 1:
        number = st.radio(t("gallery_page"), range(len(pages)), index=holding, key=keys.GALLERY_PAGE,
                          horizontal=True, format_func=lambda n: f"#{pages[n][0]}–{pages[n][-1]}")
    shown = pages[min(number, len(pages) - 1)] if pages else []
    with st.container(height=560, key="gallery_test_images"):  # scrolls on its own: the maps stay in view
        image_buttons("gallery_buttons", t("gallery"),
                      test_image_tiles(shown, names),
                      selected, select_image)
