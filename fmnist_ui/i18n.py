"""The app's texts in the reader's language: English texts (texts.py) translated through gettext catalogues
(catalogues.py, locale/), plural forms and number formats by each locale's CLDR rules (Babel). Adding a language
is one catalogue, locale/<locale>/LC_MESSAGES/messages.po, and one entry in LANGUAGES."""
from __future__ import annotations

import functools
import gettext
import re
import string

import streamlit as st
from babel import Locale
from babel.numbers import format_decimal, format_percent

from fmnist_core.kinds import MODEL_KINDS

from .catalogues import load_translations
from .texts import PLURALS, TEXTS

# ?lang= code → (the language's name in itself, its CLDR locale and catalogue folder). The one list of languages.
LANGUAGES_AND_LOCALES = {
    "en": ("English", "en"),
    "es": ("Español", "es"),
    "fr": ("Français", "fr"),
    "pt": ("Português (Brasil)", "pt_BR"),
}
LANGUAGES = {code: name for code, (name, _) in LANGUAGES_AND_LOCALES.items()}
SOURCE_LANGUAGE = "en"  # the texts of texts.py: no catalogue


def locale_of(language: str) -> str:
    return LANGUAGES_AND_LOCALES.get(language, LANGUAGES_AND_LOCALES[SOURCE_LANGUAGE])[1]


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    return load_translations(locale_of(language))


def browser_language(accept_language: str | None) -> str | None:
    """The first of the app's languages in a browser's Accept-Language header ("fr-CA,fr;q=0.9,en;q=0.8" → fr),
    by preference weight; None when none is offered."""
    if not isinstance(accept_language, str):
        return None
    offers = []
    for position, part in enumerate(accept_language[:500].split(",")):
        tag, _, parameters = part.strip().partition(";")
        weight = 1.0
        match = re.search(r"q=([0-9.]+)", parameters)
        if match:
            try:
                weight = float(match.group(1))
            except ValueError:
                continue
        code = tag.strip().lower().split("-")[0]
        if code in LANGUAGES and weight > 0:
            offers.append((-weight, position, code))
    return min(offers)[2] if offers else None


def current_language() -> str:
    """This session's language: the link's ?lang=, else the browser's preference (the first time), else English."""
    if "lang" not in st.session_state:
        requested = st.query_params.get("lang")
        if requested not in LANGUAGES:
            headers = st.context.headers if st.context.headers else {}
            requested = browser_language(headers.get("Accept-Language")) or SOURCE_LANGUAGE
        st.session_state["lang"] = requested
    return st.session_state["lang"]


def english_text(key: str) -> str:
    """A text's English source: the app's (texts.py) or a model kind's (its module in fmnist_core/kinds/)."""
    if key in TEXTS:
        return TEXTS[key]
    for kind in MODEL_KINDS.values():
        if key in kind.texts:
            return kind.texts[key]
    raise KeyError(key)


def _text(key: str, language: str) -> str:
    english = english_text(key)
    return translations(language).pgettext(key, english) if english else english  # "" is gettext's header


def class_names(language: str | None = None) -> tuple[str, ...]:
    """The ten class names, in label order, in `language` (the session's when None)."""
    language = language or current_language()
    return tuple(_text(f"class_{label}", language) for label in range(10))


# Python's format specs that a text's placeholders use for numbers: sign, grouping, precision, type.
NUMBER_SPEC = re.compile(r"^(?P<sign>[+]?)(?P<group>,?)(?:\.(?P<precision>\d+))?(?P<kind>[fdg%]?)$")


def format_number(value: float, spec: str, language: str) -> str:
    """`format(value, spec)` in `language`'s CLDR number format: "91.23%" / "91,23 %" / "91,23%", "113,386" /
    "113.386" / "113 386". A zero is written without a sign (-0.0, a sum of negative products of zeros, is 0)."""
    return _format_number(value if value else abs(value), spec, language)


# Cached: Babel takes about as long as a small element of the page, and a page writes the same image numbers and
# epochs on every click. typed: 1 and 1.0 are written differently. 8,192 entries of a few dozen bytes each.
@functools.lru_cache(maxsize=8192, typed=True)
def _format_number(value: float, spec: str, language: str) -> str:
    match = NUMBER_SPEC.match(spec)
    if match is None:
        return format(value, spec)
    locale = locale_of(language)
    precision = match["precision"]
    if match["kind"] == "%":
        digits = int(precision) if precision is not None else 6
        pattern = Locale.parse(locale).percent_formats[None].pattern
        pattern = pattern.replace("#,##0", "#,##0" + ("." + "0" * digits if digits else ""), 1)
        text = format_percent(value, format=pattern, locale=locale)
    elif match["kind"] == "g":  # as many decimals as the number has (a learning rate: 0,0003)
        text = format_decimal(value, format="#,##0.##########", locale=locale, group_separator=bool(match["group"]))
    else:
        if match["kind"] == "d" or (isinstance(value, int) and precision is None):
            pattern = "#,##0"
        else:
            digits = int(precision) if precision is not None else 6
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
        text = format_decimal(value, format=pattern, locale=locale, group_separator=bool(match["group"]))
    return ("+" + text) if match["sign"] and value >= 0 else text


class _LocalizedFormatter(string.Formatter):
    """str.format, with every number written in `language`'s format."""

    def __init__(self, language: str):
        self.language = language

    def format_field(self, value, format_spec: str) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return format_number(value, format_spec, self.language)
        return format(value, format_spec)


def t(key: str, **values) -> str:
    """The text `key` in the session's language, formatted with `values` (numbers in the language's format)."""
    language = current_language()
    text = _text(key, language)
    return _LocalizedFormatter(language).format(text, **values) if values else text


def count_of(key: str, count: int, **values) -> str:
    """A plural text (PLURALS) for `count` by the language's plural rules: "1 epoch", "2 epochs", "2 épocas"."""
    language = current_language()
    singular, plural = PLURALS[key]
    text = translations(language).npgettext(key, singular, plural, count)
    return _LocalizedFormatter(language).format(text, count=count, **values)


def decimal(value: float, digits: int = 1) -> str:
    """A decimal number in the session's language: 27.0 in English, 27,0 in Spanish."""
    return format_number(value, f",.{digits}f", current_language())


def percent(value: float, digits: int = 1) -> str:
    """A fraction as a percentage in the session's language: 91.2% / 91,2 %."""
    return format_number(value, f".{digits}%", current_language())


def number(value: int) -> str:
    """A whole number with the session language's digit grouping: 113,386 / 113.386 / 113 386."""
    return format_number(int(value), ",d", current_language())


def chart_separators(language: str | None = None) -> str:
    """Plotly's `separators` (decimal mark, then group mark) for the language: axes and hover labels then write
    numbers as the texts around them do."""
    symbols = Locale.parse(locale_of(language or current_language())).number_symbols["latn"]
    return symbols["decimal"] + symbols["group"]


def formatted_table(frame, formats: dict[str, tuple[str, int]]):
    """A DataFrame for st.dataframe whose numbers show in the session's language (a Styler: sorting still goes
    by the numbers). `formats` maps a column to ("percent", digits) for values 0–100, ("decimal", digits) or
    ("number", 0)."""
    def formatter(kind: str, digits: int):
        if kind == "percent":
            return lambda value: percent(value / 100, digits)
        if kind == "decimal":
            return lambda value: decimal(value, digits)
        return lambda value: number(int(value))

    present = {column: formatter(*how) for column, how in formats.items() if column in frame.columns}
    return frame.style.format(present, na_rep="")
