"""Readable names for runs and layers, in both languages."""
import dataclasses

import pytest
import streamlit as st

from fmnist_core.models import build_model
from fmnist_core.presets import PRESETS
from fmnist_ui.describe import layer_label, run_label


@pytest.fixture(params=["en", "es"])
def language(request):
    st.session_state["lang"] = request.param
    yield request.param
    del st.session_state["lang"]


def test_the_default_run_is_named_by_its_filters_epochs_and_accuracy(language):
    label = run_label(PRESETS["fast-cnn"], best=0.9123)
    assert label == {"en": "CNN 32 → 32 filters · 2 epochs · 91.2%",
                     "es": "CNN 32 → 32 filtros · 2 épocas · 91,2\u00a0%"}[language]


def test_a_label_names_only_what_differs_from_the_default_recipe(language):
    label = run_label(PRESETS["seed-pytorch-mlp"])
    assert label == {"en": "MLP 64 → 128 neurons · SGD · lr 0.001 · batch 256 · constant lr · no smoothing · "
                           "not shuffled · 8 epochs",
                     "es": "MLP 64 → 128 neuronas · SGD · tasa 0,001 · lote 256 · ritmo fijo · sin suavizado · "
                           "sin barajar · 8 épocas"}[language]
    assert "adam" not in label.lower() and "ep]" not in label and "[" not in label


def test_every_preset_has_its_own_label(language):
    labels = {run_label(run) for run in PRESETS.values()}
    assert len(labels) == len(PRESETS)
    one_epoch = dataclasses.replace(PRESETS["fast-cnn"], train=dataclasses.replace(PRESETS["fast-cnn"].train, epochs=1))
    assert ("1 epoch ·" if language == "en" else "1 época ·") in run_label(one_epoch, 0.9)


def test_layer_names_are_translated(language):
    names = [layer_label(layer.name, layer.kind) for layer in build_model(PRESETS["fast-cnn"].model).layers]
    assert names == {"en": ["Conv 1", "Max pool 1", "Conv 2", "Max pool 2", "Flatten", "Dense", "Output"],
                     "es": ["Conv 1", "Agrupación máx. 1", "Conv 2", "Agrupación máx. 2", "Aplanar", "Densa",
                            "Salida"]}[language]
