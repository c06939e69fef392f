"""The convolution lesson's widgets: a kernel chosen (classic, typed, or learned by a trained model), a kernel
stepping over a small grid of numbers (window, nine products, their sum, the output pixel written), a 2×2
max-pool stepped the same way, and one filter applied to a whole image. Grids are HTML tables with captions: a
screen reader reads them cell by cell, and a text line says each step in words."""
from __future__ import annotations

import html

import streamlit as st
import torch

from fmnist_core.convolution import (
    CLASSIC_KERNELS,
    CUSTOM_KERNEL_RANGE,
    STRIDES,
    closest_classic,
    conv_steps,
    filter_effect,
    padded,
    pool_steps,
)
from fmnist_core.images import digit_image, png_bytes, tile_grid
from fmnist_core.kinds.cnn import PADDING_MODES, padding_for
from fmnist_core.models import has_conv_layers
from fmnist_core.storage import app_home, saved_epochs

from . import state
from .describe import run_label
from .i18n import decimal, t

PLAY_SECONDS = 0.8  # one kernel position per tick while Play runs
WINDOW_COLOUR, OUTPUT_COLOUR, PADDING_COLOUR = "#ffe08a", "#b8e0c8", "#ececec"  # dark text stays ≥ 7:1 on each
GRID_STYLE = ("border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:1rem;margin:0.25rem 0 0.75rem;"
              "text-align:center")
CELL_STYLE = "border:1px solid #8a8f99;min-width:2.1rem;height:2.1rem;padding:0 0.2rem;color:#1f2328"


def number_text(value: float) -> str:
    """A cell's number: whole numbers without decimals (a toy image's 0 and 1), others with one."""
    return decimal(value, 0) if float(value).is_integer() else decimal(value, 1)


def grid_table(values: torch.Tensor, caption: str, colours: dict[tuple[int, int], str] | None = None,
               texts: dict[tuple[int, int], str] | None = None) -> str:
    """An HTML table of a 2-D grid of numbers, some cells coloured or with other text (a product "2 × 1")."""
    colours, texts = colours or {}, texts or {}
    rows = []
    for row in range(values.shape[0]):
        cells = []
        for column in range(values.shape[1]):
            colour = colours.get((row, column))
            style = CELL_STYLE + (f";background:{colour};font-weight:700" if colour else "")
            text = texts.get((row, column), number_text(float(values[row, column])))
            cells.append(f'<td style="{style}">{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # the caption above the table as its label, as wide as the column (a <caption> wraps to the table's width)
    label = f"grid-{abs(hash((caption, values.shape))) % 10**8}"
    return (f'<p id="{label}" style="font-weight:600;color:#1f2328;margin:0.25rem 0 0">{html.escape(caption)}</p>'
            f'<table aria-labelledby="{label}" style="{GRID_STYLE}">{"".join(rows)}</table>')


def kernel_picker(key: str) -> tuple[torch.Tensor, str]:
    """The kernel a student chose: a classic one, nine numbers typed in, or a filter of a trained CNN's first
    layer. (k×k kernel, its name in words)."""
    choices = [*CLASSIC_KERNELS, "custom", "learned"]
    chosen = st.selectbox(t("conv_kernel"), choices, key=f"{key}_kernel",
                          format_func=lambda name: t(f"kernel_{name}"))
    if chosen == "custom":
        low, high = CUSTOM_KERNEL_RANGE
        values = []
        for row, columns in enumerate([st.columns(3) for _ in range(3)]):
            for column, place in enumerate(columns):
                values.append(place.number_input(t("conv_cell", row=row + 1, column=column + 1), low, high,
                                                 value=1.0 if (row, column) == (1, 1) else 0.0, step=1.0,
                                                 key=f"{key}_cell_{row}{column}"))
        return torch.tensor(values, dtype=torch.float32).reshape(3, 3), t("kernel_custom")
    if chosen == "learned":
        learned = learned_filter(key)
        if learned is not None:
            return learned
        st.info(t("conv_no_learned"))
        chosen = "vertical_edges"
    return CLASSIC_KERNELS[chosen], t(f"kernel_{chosen}")


def learned_filter(key: str) -> tuple[torch.Tensor, str] | None:
    """A first-layer filter of a trained CNN on this server, with the classic kernel it resembles said."""
    home = app_home()
    runs = [record for record in state.store().all() if record.status == "done" and has_conv_layers(record.run.model)
            and saved_epochs(home, record.key)]
    if not runs:
        return None
    records = {record.key: record for record in runs}
    run_key = st.selectbox(t("run"), list(records), key=f"{key}_run", format_func=lambda k: run_label(records[k].run))
    model = state.checkpoint(run_key, saved_epochs(home, run_key)[-1]).model
    weights = model.module.get_submodule(model.conv_layers[0].hook_module).weight.detach()[:, 0]  # (C, k, k)
    number = st.number_input(t("conv_filter_number"), 0, weights.shape[0] - 1, 0, key=f"{key}_filter")
    kernel = weights[int(number)]
    name, similarity, sign = closest_classic(kernel) if kernel.shape[-1] == 3 else ("", 0.0, 1)
    if name:
        st.caption(t("conv_closest" if sign > 0 else "conv_closest_opposite", kernel=t(f"kernel_{name}"),
                     similarity=similarity))
    return kernel, t("conv_learned_name", number=int(number))


def position_controls(count: int, key: str) -> int:
    """Previous / Next / Play and a slider over `count` positions; the 0-based position chosen."""
    position_key = f"{key}_position"
    st.session_state[position_key] = min(st.session_state.get(position_key, 1), count)

    def move(step: int) -> None:
        st.session_state[position_key] = min(count, max(1, st.session_state[position_key] + step))

    back, play, forward = st.container(key=f"nowrap_{key}").columns(3)  # one row, on a phone too
    back.button(t("conv_previous"), key=f"{key}_back", on_click=move, args=(-1,), width="stretch",
                disabled=st.session_state[position_key] <= 1, icon=":material/chevron_left:")
    playing_key = f"{key}_playing"
    playing = st.session_state.get(playing_key, False)
    if play.button(t("conv_pause") if playing else t("conv_play"), key=f"{key}_play", width="stretch",
                   icon=":material/pause:" if playing else ":material/play_arrow:"):
        st.session_state[playing_key] = not playing
        if not playing and st.session_state[position_key] >= count:
            st.session_state[position_key] = 1
        st.rerun()
    forward.button(t("conv_next"), key=f"{key}_forward", on_click=move, args=(1,), width="stretch",
                   disabled=st.session_state[position_key] >= count, icon=":material/chevron_right:")
    if count > 1:
        st.slider(t("conv_position"), 1, count, key=position_key)
    return st.session_state[position_key] - 1


def play_ticks(key: str, count: int) -> None:
    """While Play runs: the next position every PLAY_SECONDS, until the last (then Play stops by itself)."""
    if not st.session_state.get(f"{key}_playing"):
        return

    @st.fragment(run_every=PLAY_SECONDS)
    def tick() -> None:
        position_key = f"{key}_position"
        if st.session_state[position_key] >= count:
            st.session_state[f"{key}_playing"] = False
        else:
            st.session_state[position_key] += 1
        st.rerun(scope="app")

    tick()


def conv_stepper(image: torch.Tensor, kernel: torch.Tensor, padding: str, stride: int, key: str) -> torch.Tensor:
    """The kernel over `image` (H, W) position by position: the padded input with the window, the kernel, the
    nine products and their sum, and the output filled up to this position. The whole output map."""
    steps = conv_steps(image, kernel, padding, stride)
    index = position_controls(len(steps), key)
    step = steps[index]
    size = kernel.shape[0]
    source = padded(image.float(), padding, size)
    zeros = padding_for(padding, size)
    rows, columns = steps[-1].output[0] + 1, steps[-1].output[1] + 1
    colours = {(row, column): PADDING_COLOUR for row in range(source.shape[0]) for column in range(source.shape[1])
               if not (zeros <= row < source.shape[0] - zeros and zeros <= column < source.shape[1] - zeros)}
    colours.update({(step.top + row, step.left + column): WINDOW_COLOUR for row in range(size)
                    for column in range(size)})
    output = torch.zeros(rows, columns)
    written = {}
    for done in steps[:index + 1]:
        output[done.output] = done.total
        written[done.output] = OUTPUT_COLOUR if done is step else "#ffffff"
    texts = {(row, column): "·" for row in range(rows) for column in range(columns) if (row, column) not in written}
    products = {(row, column): f"{number_text(float(step.window[row, column]))} × "
                               f"{number_text(float(kernel[row, column]))}"
                for row in range(size) for column in range(size)}
    input_column, kernel_column, output_column = st.columns([1.3, 1, 1])
    input_caption = (t("conv_input_caption_padded", rows=image.shape[0], columns=image.shape[1], zeros=zeros)
                     if zeros else t("conv_input_caption", rows=image.shape[0], columns=image.shape[1]))
    input_column.html(grid_table(source, input_caption, colours))
    kernel_column.html(grid_table(kernel, t("conv_kernel_caption", size=size)))
    kernel_column.html(grid_table(step.products, t("conv_products_caption"), texts=products))
    output_column.html(grid_table(output, t("conv_output_caption", rows=rows, columns=columns),
                                  {place: colour for place, colour in written.items() if colour != "#ffffff"}, texts))
    st.markdown(t("conv_step_text", position=index + 1, count=len(steps), row=step.output[0] + 1,
                  column=step.output[1] + 1, total=decimal(step.total, 1 if not float(step.total).is_integer()
                                                           else 0)))
    play_ticks(key, len(steps))
    return torch.tensor([done.total for done in steps]).reshape(rows, columns)


def pool_stepper(feature: torch.Tensor, key: str) -> None:
    """A 2×2 max-pool over `feature` (H, W), window by window: the largest value goes on."""
    steps = pool_steps(feature)
    if not steps:
        st.caption(t("conv_pool_too_small"))
        return
    index = position_controls(len(steps), key)
    step = steps[index]
    colours = {(step.top + row, step.left + column): WINDOW_COLOUR for row in range(2) for column in range(2)}
    rows, columns = feature.shape[0] // 2, feature.shape[1] // 2
    pooled = torch.zeros(rows, columns)
    written = {}
    for done in steps[:index + 1]:
        pooled[done.output] = done.largest
        written[done.output] = OUTPUT_COLOUR if done is step else None
    texts = {(row, column): "·" for row in range(rows) for column in range(columns) if (row, column) not in written}
    before, after = st.columns(2)
    before.html(grid_table(feature, t("conv_pool_input_caption", rows=feature.shape[0], columns=feature.shape[1]),
                           colours))
    after.html(grid_table(pooled, t("conv_pool_output_caption", rows=rows, columns=columns),
                          {place: colour for place, colour in written.items() if colour}, texts))
    st.markdown(t("conv_pool_step_text", position=index + 1, count=len(steps),
                  values=", ".join(number_text(float(value)) for value in step.window.flatten()),
                  largest=number_text(step.largest)))
    play_ticks(key, len(steps))


def stepper_settings(key: str) -> tuple[str, int]:
    """Padding (none / same) and stride (1 / 2) for the stepper."""
    padding_column, stride_column = st.columns(2)
    padding = padding_column.radio(t("padding"), PADDING_MODES, key=f"{key}_padding", horizontal=True,
                                   format_func=lambda mode: t(f"padding_{mode}"))
    stride = stride_column.radio(t("conv_stride"), STRIDES, key=f"{key}_stride", horizontal=True)
    return padding, stride


def effect_view(image_uint8: torch.Tensor, kernel: torch.Tensor, kernel_name: str) -> None:
    """One filter on a whole image: the image, the convolution's output, after ReLU, after max-pool, with sizes."""
    image = image_uint8.float() / 255
    effect = filter_effect(image, kernel)
    columns = st.columns(4)
    columns[0].image(png_bytes(digit_image(image_uint8, 140)), width=140, output_format="PNG",
                     caption=t("effect_image", size=image.shape[-1]), alt=t("effect_image_alt"))
    stages = (("effect_convolved", effect.convolved), ("effect_relu", effect.rectified),
              ("effect_pooled", effect.pooled))
    for column, (name, values) in zip(columns[1:], stages, strict=True):
        low = float(values.min()) if name == "effect_convolved" else 0.0  # negatives show dark, not cut
        grid = tile_grid(values.unsqueeze(0), 1, 140, low, max(float(values.max()), low + 1e-6))
        side = values.shape[-1]
        column.image(png_bytes(grid), width=140, caption=t(name, size=side), output_format="PNG",
                     alt=t(f"{name}_alt", kernel=kernel_name, size=side))
