"""Plotly figures for curves and run comparison; the probability bars as plain HTML."""
from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from fmnist_core.kinds import MODEL_KINDS
from fmnist_core.metrics import early_stopping
from fmnist_core.runstore import BoardEntry, RunRecord

from .describe import run_label
from .i18n import chart_separators, decimal, number, t

# Dark text of at least 14 px on every chart (Plotly's default grey #808495-ish is 3.7:1 on white).
TEXT_COLOR = "#1f2330"
FONT = {"size": 15, "color": TEXT_COLOR}
TICK_FONT = {"size": 14, "color": TEXT_COLOR}
# Okabe-Ito: told apart by red-green colour-blind students too (tab10's red and green were not); yellow left out,
# too pale on white. Each run also gets its own dash and marker, so colour is never the only difference.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
RUN_COLORS = OKABE_ITO[:7]
RUN_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid")
RUN_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "star")
TRAIN_COLOR, VAL_COLOR = OKABE_ITO[0], OKABE_ITO[1]
# No Plotly toolbar: it sat over chart titles on tablets and phones; Streamlit's own full-screen button stays.
PLOTLY_CONFIG = {"displayModeBar": False}


def show(figure: go.Figure, key: str, where=None) -> None:
    """Draw a figure across its column, without Plotly's toolbar (`where`: a column, default the page)."""
    (where or st).plotly_chart(figure, width="stretch", config=PLOTLY_CONFIG, key=key)


def run_style(position: int) -> dict:
    """Colour, dash and marker of the run at `position` of a selection: the same on every chart of a page."""
    return {"color": RUN_COLORS[position % len(RUN_COLORS)], "dash": RUN_DASHES[position % len(RUN_DASHES)],
            "symbol": RUN_SYMBOLS[position % len(RUN_SYMBOLS)]}


def run_styles(records: list[RunRecord]) -> dict[str, dict]:
    """Each run's style, by run and not by the order it was picked in: runs are numbered oldest first, so a run
    keeps its colour whichever order a student selects them in, on every chart of the page."""
    ordered = sorted(records, key=lambda record: (record.created_at, record.key))
    return {record.key: run_style(position) for position, record in enumerate(ordered)}


def translucent(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[index:index + 2], 16) for index in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"
BEST_MARKER = {"symbol": "circle-open", "size": 20, "color": "#2ca02c", "line": {"width": 3}}


def _accuracy_range(values: list[float]) -> list[float]:
    """From a little below the lowest accuracy shown up to 100 %, never past it."""
    low = min(values, default=0.5)
    return [max(0.0, low - 0.05), 1.0]


def _epoch_axis(figure: go.Figure, epochs: list[int], **where) -> None:
    figure.update_xaxes(title_text=t("epoch"), dtick=1 if max(epochs, default=1) <= 15 else None,
                        rangemode="tozero", **where)


def _layout(figure: go.Figure, height: int) -> go.Figure:
    figure.update_xaxes(tickfont=TICK_FONT, title_font=FONT)
    figure.update_yaxes(tickfont=TICK_FONT, title_font=FONT)
    figure.update_annotations(font=FONT)
    figure.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10}, font=FONT,
                         separators=chart_separators(),  # axes and hover labels write numbers as the texts do
                         # at the figure's bottom edge, in the margin: a legend of several rows placed relative to the
                         # plot grew up over the axis title in small charts
                         legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
                         hovermode="x unified")
    return figure


def curves(record: RunRecord) -> go.Figure:
    """Training and validation accuracy (left) and loss (right) per epoch, best validation epoch marked."""
    epochs = [metrics.epoch for metrics in record.history]
    claimed = f" ({t('claimed_by_file')})" if record.origin == "imported" else ""
    figure = make_subplots(rows=1, cols=2, subplot_titles=(t("accuracy") + claimed, t("loss") + claimed))
    figure.add_scatter(x=epochs, y=[m.train_acc for m in record.history], name=t("train_acc"),
                       mode="lines+markers", line={"color": TRAIN_COLOR}, row=1, col=1)
    figure.add_scatter(x=epochs, y=[m.val_acc for m in record.history], name=t("val_acc"),
                       mode="lines+markers", line={"color": VAL_COLOR}, row=1, col=1)
    figure.add_scatter(x=epochs, y=[m.train_loss for m in record.history], name=t("train_loss"),
                       mode="lines+markers", line={"color": TRAIN_COLOR, "dash": "dot"}, row=1, col=2)
    figure.add_scatter(x=epochs, y=[m.val_loss for m in record.history], name=t("val_loss"),
                       mode="lines+markers", line={"color": VAL_COLOR, "dash": "dot"}, row=1, col=2)
    best = record.best
    if best is not None:
        figure.add_scatter(x=[best.epoch], y=[best.val_acc], name=t("best_epoch"), mode="markers",
                           marker=BEST_MARKER, row=1, col=1)
    _epoch_axis(figure, epochs)
    accuracies = [m.train_acc for m in record.history] + [m.val_acc for m in record.history]
    figure.update_yaxes(tickformat=".0%", range=_accuracy_range(accuracies), row=1, col=1)
    return _layout(figure, 380)


def train_vs_validation(record: RunRecord, style: dict | None = None) -> go.Figure:
    """The overfitting view: both accuracies in the run's own colour (validation solid, training dashed: colours
    mean runs on every chart), the gap between them shaded, the best epoch marked."""
    style = style or run_style(0)
    epochs = [metrics.epoch for metrics in record.history]
    train = [metrics.train_acc for metrics in record.history]
    val = [metrics.val_acc for metrics in record.history]
    figure = go.Figure()
    figure.add_scatter(x=epochs, y=val, name=t("val_acc"), mode="lines+markers",
                       line={"color": style["color"], "width": 3}, marker={"symbol": style["symbol"], "size": 8})
    figure.add_scatter(x=epochs, y=train, name=t("train_acc"), mode="lines+markers",
                       line={"color": style["color"], "dash": "dash", "width": 2}, marker={"symbol": "circle-open"},
                       fill="tonexty", fillcolor=translucent(style["color"], 0.18))
    figure.add_scatter(x=[None], y=[None], name=t("gap"), mode="markers",
                       marker={"color": translucent(style["color"], 0.4), "symbol": "square", "size": 14})
    stop = early_stopping(record.history)
    if stop is not None:
        figure.add_vline(x=stop.stopped_after + 0.5, line_dash="dot", line_color="#7f7f7f",
                         annotation_text=t("early_stop_line"), annotation_position="bottom right")
    best = record.best
    if best is not None:
        figure.add_vline(x=best.epoch, line_dash="dash", line_color="#2ca02c")
        figure.add_scatter(x=[best.epoch], y=[best.val_acc], name=t("best_epoch"), mode="markers",
                           marker=BEST_MARKER)
        lowest = min(record.history, key=lambda metrics: metrics.val_loss)
        if lowest.epoch != best.epoch:  # loss and accuracy disagree: both marked, each named
            figure.add_scatter(x=[lowest.epoch], y=[lowest.val_acc], name=t("lowest_loss_epoch"), mode="markers",
                               marker={"symbol": "diamond", "size": 14, "color": "#7b3294",
                                       "line": {"width": 2, "color": "#ffffff"}})
    # Two lines: in a half-width column one line of "Training vs validation: CNN 32-32 k3 p1 d128 [key]" was cut.
    claimed = f" ({t('claimed_by_file')})" if record.origin == "imported" else ""
    figure.update_layout(title={"text": f"{t('train_vs_val_title')}<br>{run_label(record.run)}{claimed}",
                                "font": {"size": 15}})
    _epoch_axis(figure, epochs)
    figure.update_yaxes(tickformat=".0%", range=_accuracy_range(train + val))
    _layout(figure, 360)
    figure.update_layout(margin={"t": 64})
    return figure


def validation_overlay(records: list[RunRecord], names: list[str] | None = None, title: str | None = None) -> go.Figure:
    """Validation curves of several runs; `title` None gives the default title, "" none (a heading above it)."""
    figure = go.Figure()
    styles = run_styles(records)
    for position, record in enumerate(records):
        name = names[position] if names else run_label(record.run)
        style = styles[record.key]
        figure.add_scatter(x=[m.epoch for m in record.history], y=[m.val_acc for m in record.history],
                           name=name, mode="lines+markers", marker={"size": 9, "symbol": style["symbol"]},
                           line={"color": style["color"], "dash": style["dash"], "width": 3})
    figure.update_layout(title=t("overlay_title") if title is None else title)
    _epoch_axis(figure, [m.epoch for record in records for m in record.history])
    accuracies = [m.val_acc for record in records for m in record.history]
    figure.update_yaxes(tickformat=".0%", title_text=t("accuracy"), range=_accuracy_range(accuracies))
    return _layout(figure, 380)


def accuracy_vs_time(records: list[RunRecord], title: str | None = None) -> go.Figure:
    """Final validation accuracy against training time, one labelled point per run; `title` as above."""
    figure = go.Figure()
    styles = run_styles(records)  # as in validation_overlay: the same run, the same style
    for record in records:
        if record.final is None:
            continue
        style = styles[record.key]
        figure.add_scatter(x=[record.total_seconds], y=[record.final.val_acc], mode="markers",
                           name=run_label(record.run),
                           marker={"size": 14, "color": style["color"], "symbol": style["symbol"]},
                           cliponaxis=False)
    figure.update_layout(title=t("scatter_title") if title is None else title)
    # From zero, and a tenth more on the right: a run's label above its point is not cut at either edge.
    longest = max((record.total_seconds for record in records if record.final), default=1.0)
    figure.update_xaxes(title_text=t("training_seconds"), range=[0, longest * 1.12])
    finals = [record.final.val_acc for record in records if record.final]
    figure.update_yaxes(tickformat=".1%", title_text=t("accuracy"), range=_accuracy_range(finals))
    return _layout(figure, 380)


TRUE_CLASS_COLOR, OTHER_CLASS_COLOR = "#2ca02c", "#9ecae1"


def probability_bars(values: Sequence[float], labels: tuple[str, ...], true_index: int) -> str:
    """Class probabilities as an HTML table with bars (the true class green, the predicted one in bold): a screen
    reader reads it as a table of class and percentage, row by row.

    Plain HTML instead of a Plotly chart: it is redrawn on every click in every student's browser, and
    Plotly's JavaScript was the heaviest thing on the page; the labels can also be projector-sized."""
    predicted = max(range(len(values)), key=values.__getitem__)
    rows = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        color = TRUE_CLASS_COLOR if index == true_index else OTHER_CLASS_COLOR
        weight = "700" if index == predicted else "400"
        rows.append(
            f'<tr style="font-weight:{weight}">'
            f'<th scope="row" style="text-align:right;white-space:nowrap;font-weight:inherit;'
            f'padding:0.1em 0.5em 0.1em 0;border:none">{html.escape(label)}</th>'
            f'<td aria-hidden="true" style="width:100%;padding:0.1em 0;border:none">'
            f'<span style="display:block;height:1.05em;background:#eef1f5;border-radius:3px">'
            f'<span style="display:block;height:100%;width:{value:.1%};min-width:2px;background:{color};'
            f'border-radius:3px"></span></span></td>'
            f'<td style="text-align:right;font-variant-numeric:tabular-nums;padding:0.1em 0 0.1em 0.5em;border:none">'
            f'{value:.0%}</td></tr>')
    caption = html.escape(t("probabilities_caption"))
    return (f'<table style="font-size:15px;line-height:1.35;border-collapse:collapse;border:none;width:100%">'
            f'<caption style="text-align:left;color:#3d4150;margin-bottom:0.3em">{caption}</caption>'
            f'<thead style="position:absolute;left:-9999px"><tr><th scope="col">{html.escape(t("col_class"))}</th>'
            f'<th scope="col" colspan="2">{html.escape(t("probability"))}</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def confusion(matrix: list[list[int]], labels: tuple[str, ...]) -> go.Figure:
    """Counts of test images by true class (rows) and predicted class (columns); the diagonal is correct."""
    figure = go.Figure(go.Heatmap(z=matrix, x=list(labels), y=list(labels), colorscale="Blues", showscale=False,
                                  text=matrix, texttemplate="%{text}", textfont={"size": 14},
                                  hovertemplate="%{y} → %{x}: %{z}"))
    figure.update_xaxes(title_text=t("predicted_axis"), tickangle=-35)
    figure.update_yaxes(title_text=t("true_axis"), autorange="reversed")
    return _layout(figure, 520)


# Every architecture family the core accepts, each with a fixed colour (Okabe-Ito, safe for colour-blind
# students) and marker, so a family keeps both as the board fills up.
def families() -> tuple[tuple[str, int, str], ...]:
    """(kind, layers, colour) for every depth of every registered kind (each kind declares its colours)."""
    return tuple((name, layers, color) for name, kind in MODEL_KINDS.items()
                 for layers, color in zip(range(kind.spec.depth_range[0], kind.spec.depth_range[1] + 1),
                                          kind.colors, strict=True))


def architecture_family(record: RunRecord) -> tuple[str, int]:
    """("cnn", conv layers) or ("mlp", hidden layers): what the board colours by."""
    model = record.run.model
    return model.kind, len(model.layer_widths)


def class_board(entries: list[BoardEntry], owner: str, axis: str) -> go.Figure:
    """Every run's best validation accuracy against its parameters (log scale) or training time; coloured by
    architecture family, this session's runs drawn as large outlined stars."""
    figure = go.Figure()
    for kind, layers, color in families():
        family = (kind, layers)
        for mine in (False, True):
            group = [entry.record for entry in entries
                     if architecture_family(entry.record) == family and (owner in entry.owners) == mine]
            if not group:
                continue
            label = t(f"family_{family[0]}", layers=family[1]) + (f" · {t('board_yours')}" if mine else "")
            figure.add_scatter(
                x=[record.params if axis == "params" else record.total_seconds for record in group],
                y=[record.best.val_acc for record in group], mode="markers", name=label, legendgroup=str(family),
                marker={"color": color, "size": 22 if mine else 13,
                        "symbol": "star" if mine else MODEL_KINDS[family[0]].marker,
                        "opacity": 1.0 if mine else 0.75, "line": {"width": 2 if mine else 0.5, "color": "#222"}},
                hovertext=[f"{run_label(record.run)}<br>{number(record.params)} · "
                           f"{decimal(record.total_seconds, 0)} s" for record in group],
                hovertemplate="%{hovertext}<br>%{y:.2%}<extra></extra>",
            )
    if axis == "params":
        figure.update_xaxes(type="log", title_text=t("board_axis_params"))
    else:
        figure.update_xaxes(title_text=t("training_seconds"), rangemode="tozero")
    accuracies = [entry.record.best.val_acc for entry in entries]
    figure.update_yaxes(tickformat=".0%", title_text=t("col_best_val"), range=_accuracy_range(accuracies))
    _layout(figure, 520)
    figure.update_layout(hovermode="closest")  # the legend stays in the bottom margin (`_layout`): always visible
    return figure
