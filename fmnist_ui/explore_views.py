"""Explore's views of one trained run (app_pages/explore.py chooses the run and the view): the feature maps of a
chosen image, one filter compared across images, the test set's errors, and where the model looked. Each view takes
what it shows as arguments; what a whole class asks for alike (an image's maps, accuracy with filters off, the test
set's predictions) is cached once for every session."""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd
import streamlit as st
import torch

from fmnist_core.activations import feature_maps
from fmnist_core.analysis import (
    accuracy_with_filters_off,
    confusion_matrix,
    per_class_accuracy,
    predict_classes,
    worst_confusion,
)
from fmnist_core.data import FashionMNIST, as_input
from fmnist_core.images import (
    digit_image,
    feature_grid,
    kernel_grid,
    png_bytes,
    png_data_address,
    strongest_filters,
    tile_grid,
)
from fmnist_core.models import BuiltModel, conv_kernels, with_filters_off
from fmnist_core.runstore import RunRecord
from fmnist_core.storage import app_home, saved_epochs

from . import charts, keys, state
from .describe import (
    compare_map_alt,
    feature_grid_alt,
    kernels_alt,
    layer_label,
    markdown_bold,
    record_label,
)
from .heatmap_view import looked_view
from .i18n import t
from .image_buttons import image_buttons, test_image_tiles
from .picture import GALLERY_SIZE, UPLOAD, gallery, image_of, thumbnail
from .widgets import column_heading

COMPARE_DEFAULT = [0, 7, 26]
ERROR_LIST_SIZE = 24
# What one test image shows (probabilities and every layer's grid as a PNG data address) is kept for the whole
# class: the seed CNN's entry is about 135 KB, so 256 entries stay under 35 MB.
IMAGE_VIEW_ENTRIES = 256
VIEWS = ("maps", "compare", "errors", "looked")


@dataclass(frozen=True)
class ExploredRun:
    """The run a student explores: its key, the epoch chosen on the scrubber, that epoch's model, its record."""

    key: str
    epoch: int
    model: BuiltModel
    record: RunRecord


def filters_off(shown: ExploredRun) -> dict[str, list[int]]:
    """The filters this student switched off, per conv layer of the explored run."""
    return {layer.name: list(st.session_state.get(f"off_{shown.key}_{layer.name}", []))
            for layer in shown.model.conv_layers}


def frozen_filters(active_off: dict[str, list[int]]) -> tuple:
    """The switched-off filters as a hashable cache key; () when every filter is on."""
    return tuple((name, tuple(sorted(channels))) for name, channels in active_off.items() if channels)


def switch_all_on(shown: ExploredRun) -> None:
    for layer in shown.model.conv_layers:
        st.session_state[f"off_{shown.key}_{layer.name}"] = []


@st.cache_data(show_spinner=False, max_entries=64)
def test_accuracy(run_key: str, run_epoch: int, switched_off: tuple) -> float:
    """Accuracy on the 10,000 test images of this checkpoint with the given filters off (shared by the class)."""
    checkpoint, data = state.checkpoint(run_key, run_epoch), state.dataset()
    return accuracy_with_filters_off(checkpoint.model, checkpoint.run.model, data.test_images, data.test_labels,
                                     dict(switched_off))


def knockout_box(shown: ExploredRun, active_off: dict[str, list[int]]) -> None:
    model, key, epoch = shown.model, shown.key, shown.epoch
    with st.expander(t("knockout_title"), expanded=any(active_off.values())):
        st.caption(t("knockout_help"))
        columns = st.columns(len(model.conv_layers))
        for column, layer in zip(columns, model.conv_layers, strict=True):
            # select_all=False: typing "#5" and Enter switches off #5 only, not every match (#15, #25…)
            column.multiselect(t("knockout_layer", name=layer_label(layer.name, layer.kind)),
                               list(range(layer.output_shape[0])), key=f"off_{key}_{layer.name}",
                               format_func=lambda index: f"#{index}", placeholder=t("choose"), select_all=False)
        reset_column, measure_column = st.columns(2)
        reset_column.button(t("knockout_reset"), on_click=switch_all_on, args=(shown,), key="knockout_reset")
        if measure_column.button(t("knockout_measure"), key="knockout_measure"):
            accuracy_off = test_accuracy(key, epoch, frozen_filters(active_off))
            accuracy_on = test_accuracy(key, epoch, ())
            st.markdown(t("knockout_accuracy", off=accuracy_off, on=accuracy_on))


def announce(text: str) -> None:
    """The prediction in a polite live region: a screen reader reads it out after each choice of image."""
    st.html(f'<p id="prediction" role="status" aria-live="polite" tabindex="-1" style="margin:0">'
            f'{markdown_bold(text)}</p>')


def bring_into_view(selection: int) -> None:
    """After a click in the gallery, scroll the chosen image and its prediction into view and move the keyboard
    focus there: on a phone the gallery stacks above them, on a projector the click was far down the gallery."""
    if not st.session_state.pop(keys.FOCUS_PREDICTION, False):
        return
    st.html(f"""<script>/* image {selection}, {time.time()} */
      (function focusPrediction(attempt) {{
        const target = document.getElementById('prediction');
        if (!target) {{ if (attempt < 40) setTimeout(() => focusPrediction(attempt + 1), 50); return; }}
        const column = target.closest('[data-testid="stColumn"]') || target;
        column.scrollIntoView({{block: 'start'}});
        target.focus({{preventScroll: true}});
      }})(0);</script>""", unsafe_allow_javascript=True)


def grid_cell(filters: int, size: int) -> int:
    """Pixels per feature-map tile: large for a few big maps, small for many tiny ones. 16 tiles of 88 px
    and their gaps stay under Streamlit's 1,460 px image limit, past which it would blur and re-encode them."""
    return 88 if filters <= 16 and size > 8 else 64 if size > 8 else 40


def image_view(shown_model, image: torch.Tensor) -> tuple[tuple[float, ...], Mapping[str, str], Mapping[str, tuple]]:
    """Class probabilities of one 28×28 image, each feature layer's maps as one PNG grid (a data address), and
    each layer's strongest filters (what the grid's text alternative says)."""
    probabilities, maps = feature_maps(shown_model, as_input(image[None]))
    # data addresses: the page's message carries them, no media file per grid and click (BENCHMARKS.md)
    grids = {layer.name: png_data_address(png_bytes(feature_grid(
        maps[layer.name][0], columns=16, cell=grid_cell(layer.output_shape[0], layer.output_shape[1]))))
        for layer in shown_model.feature_layers}
    strongest = {layer.name: tuple(strongest_filters(maps[layer.name][0])) for layer in shown_model.feature_layers}
    # read-only: a cached view is the same object for every session
    return tuple(probabilities[0].tolist()), MappingProxyType(grids), MappingProxyType(strongest)


@st.cache_resource(show_spinner=False, max_entries=IMAGE_VIEW_ENTRIES)
def test_image_view(run_key: str, run_epoch: int, index: int, switched_off: tuple) -> tuple[tuple, Mapping, Mapping]:
    """`image_view` of a test image, shared by every session: a class clicking the same images pays once. The
    same read-only objects for every session, not a copy per click as st.cache_data would unpickle."""
    shown = state.checkpoint(run_key, run_epoch).model
    if switched_off:
        shown = with_filters_off(shown, dict(switched_off))
    return image_view(shown, state.dataset().test_images[index])


@st.fragment
def feature_map_view(shown: ExploredRun, names: tuple[str, ...]) -> None:
    """Gallery, prediction and every layer's maps: a click reruns only this part of the page."""
    model, key, epoch = shown.model, shown.key, shown.epoch
    selected = int(st.session_state.setdefault(keys.SELECTED_IMAGE, 0))
    image, true_label, _ = image_of(selected)
    st.query_params.update(run=key, image=str(max(selected, 0)))  # a link to this run and image
    active_off = filters_off(shown)
    switched_off = sum(len(channels) for channels in active_off.values())

    def model_shown():
        return with_filters_off(model, active_off) if switched_off else model

    if true_label is None:  # the student's own picture: not worth keeping for others
        probability_list, grids, strongest = image_view(model_shown(), image)
    else:
        probability_list, grids, strongest = test_image_view(key, epoch, selected, frozen_filters(active_off))
    predicted = max(range(10), key=probability_list.__getitem__)
    # Keyed: on a tablet the probabilities wrap below instead of squeezing the gallery to one glyph a button.
    gallery_column, image_column, chart_column = st.container(key="wrap_explore").columns([1.1, 0.8, 1.4],
                                                                                          gap="medium")
    with gallery_column:
        gallery()
    with image_column:
        prediction = t("predicted", label=names[predicted], probability=probability_list[predicted])
        if true_label is None:
            column_heading(t("your_picture"))
            st.image(st.session_state[keys.UPLOAD_PICTURE], alt=t("alt_picture"))
            st.caption(t("as_model_sees"))
            st.image(digit_image(image, size=112), alt=t("alt_picture_small"))
            st.markdown(t("unknown_label"))
            announce(prediction)
        else:
            column_heading(t("selected", index=selected))
            st.image(thumbnail(selected, size=224), output_format="PNG",
                     alt=t("alt_selected_image", index=selected, label=names[true_label]))
            st.markdown(t("true_label", label=names[true_label]))
            verdict = t("correct") if predicted == true_label else t("wrong")
            announce(f"{prediction} — {verdict}")
        bring_into_view(selected)
    with chart_column:
        st.html(charts.probability_bars(probability_list, names, -1 if true_label is None else true_label))
    if not model.feature_layers:
        st.info(t("no_cnn_runs"))
    else:
        knockout_box(shown, active_off)
        if switched_off:
            st.warning(t("knockout_active", count=switched_off))
    show_kernels = st.toggle(t("show_kernels"), key="show_kernels") if model.conv_layers else False
    for layer in model.feature_layers:
        filters, size = layer.output_shape[0], layer.output_shape[1]
        name = layer_label(layer.name, layer.kind)
        st.markdown(f"**{t('layer_caption', name=name, filters=filters, size=size)}**")
        st.image(grids[layer.name], output_format="PNG",  # as is: crisp tiles, no JPEG re-encoding
                 alt=feature_grid_alt(name, filters, size, strongest[layer.name]))
        if show_kernels and layer.kind == "conv":
            st.caption(t("kernels_caption", name=name))
            kernels = conv_kernels(model_shown(), layer.name)
            st.image(kernel_grid(kernels, columns=16, cell=40), alt=kernels_alt(name, kernels))


@st.fragment
def compare_view(model: BuiltModel, data: FashionMNIST, names: tuple[str, ...]) -> None:
    """One filter across every conv/pool layer for up to three images, one row per image."""
    if not model.feature_layers:
        st.info(t("no_cnn_runs"))
        return
    options = ([UPLOAD] if keys.UPLOAD_TENSOR in st.session_state else []) + list(range(GALLERY_SIZE))
    chosen = st.multiselect(
        t("compare_images"), options, default=COMPARE_DEFAULT, max_selections=3, key=keys.COMPARE_IMAGES,
        placeholder=t("choose"), select_all=False,
        format_func=lambda i: t("your_picture") if i == UPLOAD else f"#{i} · {names[state.test_labels()[i]]}",
    )
    if not chosen:
        return
    max_filter = min(layer.output_shape[0] for layer in model.feature_layers) - 1
    filter_index = st.slider(t("filter_index"), 0, max_filter, 0, key="compare_filter")
    st.caption(t("compare_caption", filter=filter_index))
    images = [image_of(selection) for selection in chosen]
    _, compare_maps = feature_maps(model, as_input(torch.stack([image for image, _, _ in images])))
    layers = model.feature_layers
    header = st.columns(len(layers) + 1)
    for column, layer in zip(header[1:], layers, strict=True):
        column.markdown(f"**{layer_label(layer.name, layer.kind)}**")
    for row, (image, label, caption) in enumerate(images):
        columns = st.columns(len(layers) + 1)
        name = caption if label is None else f"{caption} · {names[label]}"
        columns[0].image(digit_image(image, size=120), caption=name, alt=name)
        for column, layer in zip(columns[1:], layers, strict=True):
            layer_maps = compare_maps[layer.name][:, filter_index]  # (N, H, W)
            high = max(float(layer_maps.max()), 1e-6)  # one scale per layer across the compared images
            column.image(tile_grid(layer_maps[row:row + 1], 1, 120, 0.0, high),
                         alt=compare_map_alt(layer_label(layer.name, layer.kind), filter_index, name, layer_maps[row]))


@st.cache_data(show_spinner=False, max_entries=32)
def test_predictions(run_key: str, run_epoch: int) -> list[int]:
    checkpoint = state.checkpoint(run_key, run_epoch)
    return predict_classes(checkpoint.model, state.dataset().test_images, checkpoint.run.model).tolist()


def open_in_maps(index: int) -> None:
    st.session_state[keys.SELECTED_IMAGE] = index
    st.session_state.pop(keys.GALLERY_PAGE, None)  # the gallery opens on the page that holds it
    st.session_state[keys.EXPLORE_VIEW] = "maps"


def errors_view(shown: ExploredRun, data: FashionMNIST, names: tuple[str, ...]) -> None:
    """Confusion matrix and per-class accuracy; a cell lists its images; an image opens its feature maps."""
    key, epoch = shown.key, shown.epoch
    st.caption(t("errors_intro"))
    predicted = torch.tensor(test_predictions(key, epoch))
    matrix = confusion_matrix(data.test_labels, predicted)
    worst_true, worst_predicted = worst_confusion(matrix)
    chart_column, list_column = st.columns([1.2, 1], gap="large")
    charts.show(charts.confusion(matrix.tolist(), names), key="confusion", where=chart_column)
    with chart_column:  # the matrix's text alternative, in view (not behind an expander)
        accuracies = per_class_accuracy(matrix).tolist()
        st.markdown(t("most_confused", count=int(matrix[worst_true][worst_predicted]), true=names[worst_true],
                      predicted=names[worst_predicted]))
        st.dataframe(pd.DataFrame({t("col_class"): list(names), t("per_class"): [value * 100 for value in accuracies]}),
                     hide_index=True, width="stretch",
                     column_config={t("per_class"): st.column_config.NumberColumn(format="%.1f %%")})
    with list_column:
        true_column, predicted_column = st.columns(2)
        true_class = true_column.selectbox(t("cell_true"), range(10), index=worst_true, key=f"cell_true_{key}",
                                           format_func=names.__getitem__)
        predicted_class = predicted_column.selectbox(t("cell_predicted"), range(10), index=worst_predicted,
                                                     key=f"cell_predicted_{key}", format_func=names.__getitem__)
        matches = ((data.test_labels == true_class) & (predicted == predicted_class)).nonzero().flatten().tolist()
        shown = matches[:ERROR_LIST_SIZE]
        more = t("first_shown", shown=len(shown)) if len(matches) > len(shown) else ""
        heading = t("cell_images", count=len(matches), true=names[true_class], predicted=names[predicted_class],
                    more=more)
        st.markdown(heading)
        with st.container(height=440, key="gallery_mistakes"):
            image_buttons(f"mistakes_{key}", heading,  # the group is named by the line above it
                          test_image_tiles(shown, names),
                          None, open_in_maps)


def where_it_looked(shown: ExploredRun, runs: list[RunRecord], names: tuple[str, ...]) -> None:
    """Explore's heat-map view of the chosen image: the selection and runs handed to fmnist_ui.heatmap_view."""
    model, key, epoch = shown.model, shown.key, shown.epoch
    selected = int(st.session_state.setdefault(keys.SELECTED_IMAGE, 0))
    image, true_label, caption = image_of(selected)
    probabilities, _, _ = (image_view(model, image) if true_label is None
                           else test_image_view(key, epoch, selected, ()))
    st.markdown(f"**{caption}**" + ("" if true_label is None else f" · {names[true_label]}"))
    others = {other.key: record_label(other) for other in runs if other.key != key}

    def load(other_key: str) -> tuple[int, object]:  # only the run compared with is loaded
        other_epoch = saved_epochs(app_home(), other_key)[-1]
        return other_epoch, state.checkpoint(other_key, other_epoch).model

    looked_view(key, epoch, model, record_label(shown.record), image, probabilities, names, others, load)


def show_view(view: str, shown: ExploredRun, runs: list[RunRecord], data: FashionMNIST,
              names: tuple[str, ...]) -> None:
    """The view a student chose (VIEWS) of the explored run."""
    if view == "compare":
        compare_view(shown.model, data, names)
    elif view == "looked":
        where_it_looked(shown, runs, names)
    elif view == "errors":
        errors_view(shown, data, names)
    else:
        feature_map_view(shown, names)
