"""Texts in both languages: every key translated, numbers in the language's own format."""
import re

import pytest
import streamlit as st

from fmnist_core.data import CLASS_NAMES
from fmnist_ui.i18n import TEXT, class_names, localize_number, t


def in_language(language, key, **values):
    st.session_state["lang"] = language
    try:
        return t(key, **values)
    finally:
        del st.session_state["lang"]


@pytest.mark.parametrize(("english", "spanish"), [
    ("113,386", "113 386"), ("27.0", "27,0"), ("91.23%", "91,23 %"), ("+1.5", "+1,5"), ("1,234.5", "1234,5"),
    ("8", "8"), ("0.008", "0,008"), ("12345678", "12 345 678"),
])
def test_spanish_numbers_use_a_decimal_comma_and_a_space_before_percent(english, spanish):
    assert localize_number(english, "es") == spanish.replace(" ", "\u00a0")
    assert localize_number(english, "en") == english


def test_formatted_texts_follow_the_language():
    english = in_language("en", "overfit_verdict", run="abc", best=0.9123, best_epoch=3, train=0.99, val=0.9,
                          gap=9.0, stop="")
    spanish = in_language("es", "overfit_verdict", run="abc", best=0.9123, best_epoch=3, train=0.99, val=0.9,
                          gap=9.0, stop="")
    assert "91.23%" in english and "+9.0 points" in english
    assert "91,23\u00a0%" in spanish and "+9,0 puntos" in spanish and "91.23" not in spanish


def test_every_text_has_both_languages_and_the_same_fields():
    for key, (english, spanish) in TEXT.items():
        assert bool(english) == bool(spanish), key
        fields = sorted(re.findall(r"{(\w+)", english)), sorted(re.findall(r"{(\w+)", spanish))
        assert fields[0] == fields[1], key


def test_class_names_in_both_languages_follow_the_data_sets_order():
    assert class_names("en") == CLASS_NAMES
    assert class_names("es")[1] == "Pantalón" and class_names("es")[9] == "Botín" and len(class_names("es")) == 10


def test_tables_show_numbers_in_the_language_and_keep_them_numbers_for_sorting():
    import pandas as pd

    from fmnist_ui.i18n import formatted_table

    frame = pd.DataFrame({"acc": [91.234, 88.5], "params": [113386, 55098], "seconds": [27.04, None]})
    st.session_state["lang"] = "es"
    try:
        styled = formatted_table(frame, {"acc": ("percent", 2), "params": ("number", 0), "seconds": ("decimal", 1)})
        shown = styled.to_string()
    finally:
        del st.session_state["lang"]
    assert "91,23\u00a0%" in shown and "113\u00a0386" in shown and "27,0" in shown and "nan" not in shown
    assert styled.data["acc"].tolist() == [91.234, 88.5]  # sorting goes by the numbers
