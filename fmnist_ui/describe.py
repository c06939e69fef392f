"""Text alternatives for what the pages draw (alt text for images, sentences for feature grids), in the session's
language, generated from the data itself."""
from __future__ import annotations

import torch

from fmnist_core.images import strongest_filters
from fmnist_core.kinds import kind_named
from fmnist_core.presets import DEFAULT_PRESET, PRESETS
from fmnist_core.runstore import RunRecord
from fmnist_core.specs import RunSpec

from .i18n import count_of, percent, t


def test_image_alt(index: int, label: str) -> str:
    return t("alt_test_image", index=index, label=label)


def strongest_text(strongest: list[tuple[int, float, str]]) -> str:
    """'filter #5 (peak at the top left), filter #12 (…)' from `strongest_filters`."""
    return ", ".join(t("alt_filter_peak", filter=channel, region=t(f"region_{region}"))
                     for channel, _, region in strongest)


def feature_grid_alt(name: str, filters: int, size: int, strongest: list[tuple[int, float, str]]) -> str:
    """One sentence for a layer's grid of maps: how many, what size, which filters respond most and where."""
    return t("alt_feature_grid", name=name, filters=filters, size=size, strongest=strongest_text(strongest))


def kernels_alt(name: str, kernels: torch.Tensor) -> str:
    """The filter weights of a conv layer, kernels (out, in, k, k)."""
    return t("alt_kernels", name=name, filters=kernels.shape[0], size=kernels.shape[-1])


def compare_map_alt(layer: str, filter_index: int, image: str, layer_map: torch.Tensor) -> str:
    """One filter's map (H, W) of one image in the compare view."""
    [(_, _, region)] = strongest_filters(layer_map[None], count=1)
    return t("alt_compare_map", layer=layer, filter=filter_index, image=image, region=t(f"region_{region}"))


def markdown_bold(text: str) -> str:
    """Escaped HTML of a sentence whose only markup is **bold** (our translated texts)."""
    import html
    import re

    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))


OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD"}  # as their papers write them, in every language


def layer_label(name: str, kind: str) -> str:
    """A layer's name in the session's language: 'conv2' → 'Conv 2', 'flatten' → 'Aplanar' (kinds from models.py)."""
    position = name[len(name.rstrip("0123456789")):]
    return t(f"layer_{kind}") + (f" {position}" if position else "")


def _recipe_changes(run: RunSpec) -> list[str]:
    """What differs from the default recipe (the Fast CNN preset), in words: only changes are worth a label's room."""
    default = PRESETS[DEFAULT_PRESET]
    kind = kind_named(run.model.kind)
    usual_model = default.model if isinstance(default.model, kind.spec) else kind.spec()
    changes = [t(key, **values) for key, values in kind.changes(run.model, usual_model)]
    train, usual = run.train, default.train
    if train.optimizer != usual.optimizer:
        changes.append(OPTIMIZER_NAMES[train.optimizer])
    if train.lr != usual.lr:
        changes.append(t("label_lr", lr=train.lr))
    if train.batch_size != usual.batch_size:
        changes.append(t("label_batch", size=train.batch_size))
    if train.schedule != usual.schedule:
        changes.append(t(f"label_schedule_{train.schedule}"))
    if train.label_smoothing != usual.label_smoothing:
        changes.append(t("label_smoothing_value", value=train.label_smoothing) if train.label_smoothing
                       else t("label_no_smoothing"))
    if train.shuffle != usual.shuffle:
        changes.append(t("label_shuffled" if train.shuffle else "label_unshuffled"))
    if train.seed != usual.seed:
        changes.append(t("label_seed", seed=train.seed))
    return changes


def model_label(model) -> str:
    """A model in words: 'CNN 32 → 32 filters' / 'MLP 128 neurons'."""
    return t(f"label_{model.kind}", widths=" → ".join(str(width) for width in model.layer_widths))


def run_label(run: RunSpec, best: float | None = None) -> str:
    """A run as a student reads it: 'CNN 32 → 32 filters · 2 epochs · 91.2%', with what differs from the default
    recipe ('SGD', 'lr 0.001', 'batch 256', …) in between; unique per spec, so no key is needed to tell runs apart."""
    parts = [model_label(run.model), *_recipe_changes(run), count_of("n_epochs", run.train.epochs)]
    if best is not None:
        parts.append(percent(best))
    return " · ".join(parts)


def record_label(record: RunRecord) -> str:
    """A stored run's label; an unverified import shows what its weights scored here, not its claim."""
    if not record.verified and record.measured_acc is not None:
        return f"{run_label(record.run)} · {percent(record.measured_acc)} {t('measured_here')}"
    return run_label(record.run, record.best.val_acc if record.history else None)
