"""Texts in every language: gettext catalogues complete, placeholders kept, numbers and plurals by CLDR."""
import re

import pytest
import streamlit as st
from babel.messages.pofile import read_po

from fmnist_core.data import CLASS_NAMES
from fmnist_ui.catalogues import LOCALE_DIR, catalogue_path, extract_texts, source_files
from fmnist_ui.i18n import LANGUAGES, SOURCE_LANGUAGE, browser_language, class_names, format_number, locale_of, t
from fmnist_ui.texts import PLURALS, TEXTS

TRANSLATED = [language for language in LANGUAGES if language != SOURCE_LANGUAGE]
NBSP, NNBSP = "\u00a0", "\u202f"


def in_language(language, key, **values):
    st.session_state["lang"] = language
    try:
        return t(key, **values)
    finally:
        del st.session_state["lang"]


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"{[^{}]*}", text))


def source_messages() -> dict:
    """(context, English) of every message, as `make extract-texts` extracts them."""
    messages = {}
    for path in source_files():
        with open(path, "rb") as source:
            messages.update({message[0]: message[1:] for _, _, message, _ in extract_texts(source, None, None, None)})
    return messages


def test_the_template_holds_every_text_of_the_app():
    with open(LOCALE_DIR / "messages.pot", "rb") as template:
        catalogue = read_po(template)
    in_template = {message.context: message.id for message in catalogue if message.id}
    expected = {key: (english[0] if len(english) == 1 else tuple(english))
                for key, english in source_messages().items()}
    assert in_template == expected, "run `make extract-texts`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_catalogue_translates_every_message_with_the_same_placeholders(language):
    """Adding a language is its catalogue and its name in LANGUAGES: a missing or broken message fails here."""
    with open(catalogue_path(locale_of(language), "po"), "rb") as file:
        catalogue = read_po(file, locale=locale_of(language))
    messages = {message.context: message for message in catalogue if message.id}
    assert set(messages) == set(source_messages()), "run `make extract-texts`, then translate what is new"
    for key, message in messages.items():
        assert not message.fuzzy, f"{language}: {key} is marked fuzzy"
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        translated = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(translated), f"{language}: {key} is not translated"
        for form in translated:
            assert placeholders(form) == placeholders(english[-1]), f"{language}: {key} changes its placeholders"


def test_every_text_key_is_a_text_or_a_plural_and_never_both():
    assert not set(TEXTS) & set(PLURALS)
    assert all(isinstance(value, str) for value in TEXTS.values())


@pytest.mark.parametrize(("value", "spec", "expected"), [
    (113386, ",d", {"en": "113,386", "es": "113.386", "fr": f"113{NNBSP}386", "pt": "113.386"}),
    (0.9123, ".2%", {"en": "91.23%", "es": f"91,23{NBSP}%", "fr": f"91,23{NBSP}%", "pt": "91,23%"}),
    (27.04, ",.1f", {"en": "27.0", "es": "27,0", "fr": "27,0", "pt": "27,0"}),
    (1.5, "+.1f", {"en": "+1.5", "es": "+1,5", "fr": "+1,5", "pt": "+1,5"}),
    (-0.13, "+.2f", {"en": "-0.13", "es": "-0,13", "fr": "-0,13", "pt": "-0,13"}),
    (3e-4, "g", {"en": "0.0003", "es": "0,0003", "fr": "0,0003", "pt": "0,0003"}),
])
def test_numbers_follow_each_languages_cldr_format(value, spec, expected):
    for language, text in expected.items():
        assert format_number(value, spec, language).replace("\u2212", "-") == text


def test_formatted_texts_follow_the_language():
    values = dict(run="abc", best=0.9123, best_epoch=3, train=0.99, val=0.9, gap=9.0, stop="")
    english, spanish = in_language("en", "overfit_verdict", **values), in_language("es", "overfit_verdict", **values)
    assert "91.23%" in english and "+9.0 points" in english
    assert f"91,23{NBSP}%" in spanish and "+9,0 puntos" in spanish and "91.23" not in spanish


def test_plurals_follow_each_languages_rules():
    """CLDR: English and Spanish say "0 epochs", French and Brazilian Portuguese count 0 as one ("0 époque")."""
    from fmnist_ui.i18n import translations

    assert translations("es").npgettext("n_epochs", *PLURALS["n_epochs"], 1) == "{count} época"
    assert translations("es").npgettext("n_epochs", *PLURALS["n_epochs"], 2) == "{count} épocas"
    for language in ("fr", "pt"):
        catalogue = translations(language)
        assert catalogue.npgettext("n_epochs", *PLURALS["n_epochs"], 0) == catalogue.npgettext("n_epochs",
                                                                                            *PLURALS["n_epochs"], 1)
        assert catalogue.npgettext("n_epochs", *PLURALS["n_epochs"], 0) != catalogue.npgettext("n_epochs",
                                                                                            *PLURALS["n_epochs"], 2)


@pytest.mark.parametrize(("header", "expected"), [
    ("fr-CA,fr;q=0.9,en;q=0.8", "fr"), ("de-DE,de;q=0.9,pt-BR;q=0.8,en;q=0.5", "pt"), ("en-GB", "en"),
    ("es-419", "es"), ("de", None), ("", None), (None, None), ("en;q=0.1,es;q=0.9", "es"), ("x" * 10_000, None),
])
def test_the_browsers_preference_chooses_the_language_the_first_time(header, expected):
    assert browser_language(header) == expected


def test_class_names_in_every_language_follow_the_data_sets_order():
    assert class_names("en") == CLASS_NAMES
    assert class_names("es")[1] == "Pantalón" and class_names("es")[9] == "Botín"
    assert all(len(set(class_names(language))) == 10 for language in LANGUAGES)


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
    assert f"91,23{NBSP}%" in shown and "113.386" in shown and "27,0" in shown and "nan" not in shown
    assert styled.data["acc"].tolist() == [91.234, 88.5]  # sorting goes by the numbers


def test_cached_number_formatting_keeps_zero_unsigned_and_ints_apart_from_floats():
    """format_number is cached; -0.0 == 0.0 and 1 == 1.0 hash alike, and must not answer for each other."""
    assert format_number(-0.0, ".1f", "en") == "0.0"
    assert format_number(0.0, ".1f", "en") == "0.0"
    assert format_number(1.0, "", "en") != format_number(1, "", "en") == "1"
