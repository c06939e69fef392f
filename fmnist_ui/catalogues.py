"""The gettext catalogues (locale/<language>/LC_MESSAGES/messages.po), kept with Babel: `make catalogs` extracts the
English texts of texts.py into locale/messages.pot, updates every language's .po from it and compiles the .mo
files the app reads. A catalogue that was not compiled (a checkout run without make) is compiled in memory."""
from __future__ import annotations

import ast
import gettext
import io
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"


def source_files() -> list[Path]:
    """The files that hold the app's English texts: the `[texts: …]` patterns of babel.cfg (texts.py and every
    model kind's module)."""
    config = (LOCALE_DIR.parent / "babel.cfg").read_text()
    patterns = [line.strip()[len("[texts:"):-1].strip() for line in config.splitlines()
                if line.strip().startswith("[texts:")]
    return sorted(path for pattern in patterns for path in LOCALE_DIR.parent.glob(pattern)
                  if path.name != "__init__.py")


def _dictionaries(tree):
    """(name, dict node) of each text dictionary: `TEXTS: … = {…}` and `PLURALS: … = {…}` (texts.py), and a model
    kind's `texts={…}` (fmnist_core/kinds/)."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(node.value, ast.Dict)):
            yield node.target.id, node.value
        elif isinstance(node, ast.keyword) and node.arg == "texts" and isinstance(node.value, ast.Dict):
            yield "TEXTS", node.value


def extract_texts(fileobj, keywords, comment_tags, options):
    """Babel's extraction method for the texts (babel.cfg): each TEXTS entry is a message whose context is its key,
    each PLURALS entry a plural message. Yields (line, function, message, comments) as Babel's extractors do."""
    tree = ast.parse(fileobj.read().decode("utf-8"))
    for name, dictionary in _dictionaries(tree):
        for key_node, value_node in zip(dictionary.keys, dictionary.values, strict=True):
            key = ast.literal_eval(key_node)
            value = ast.literal_eval(value_node)
            if name == "TEXTS" and value:  # an empty text stays empty in every language
                yield key_node.lineno, "pgettext", (key, value), []
            elif name == "PLURALS":
                yield key_node.lineno, "npgettext", (key, *value), []


def catalogue_path(locale: str, suffix: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.{suffix}"


def load_translations(locale: str) -> gettext.NullTranslations:
    """The compiled catalogue of `locale` (English, the source language, has none: its texts are the msgids);
    compiled here in memory when its .mo is missing or older than its .po."""
    po, mo = catalogue_path(locale, "po"), catalogue_path(locale, "mo")
    if not po.exists():
        return gettext.NullTranslations()
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with open(mo, "rb") as file:
            return gettext.GNUTranslations(file)
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as file:
        catalogue = read_po(file, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)
