"""The README's "Making a change" table is true: every file a recipe names exists, each "N files" counts the files
named before it, and what each recipe relies on holds (kinds found by name, metric columns derived, backends
behind one interface; every checkpoint format read is tests/test_metric_recipe.py's)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def recipes() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Making a change"):]
    section = section[:section.index("\n## ")]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return {cells[1].strip(): cells[2].strip() for cells in rows[1:]}


def named_files(text: str) -> list[str]:
    """Paths in backticks (folder/…/file.py or a top-level file.py), in order, each once; tests excluded."""
    paths = []
    for token in re.findall(r"`([^`]+)`", text):
        if re.fullmatch(r"[\w<>./-]+\.py", token) and not token.startswith("tests/") and token not in paths:
            paths.append(token)
    return paths


def test_the_table_has_the_recipes_the_issue_asks_for():
    assert {"a model kind (say an RNN)", "a page", "a per-epoch metric", "a job backend",
            "a checkpoint format"} <= set(recipes())


@pytest.mark.parametrize("change", list(recipes()))
def test_each_count_is_the_number_of_files_named_before_it_and_each_file_exists(change):
    cell = recipes()[change]
    counts = list(re.finditer(r"(\d+) files?\b", cell))
    assert counts, f"{change}: no count"
    for count in counts:
        assert int(count.group(1)) == len(named_files(cell[:count.start()])), f"{change}: {count.group(0)}"
    for path in named_files(cell):
        assert list(ROOT.glob(re.sub(r"<\w+>", "*", path))), f"{change}: {path} does not exist"
    for path in re.findall(r"`(tests/[\w./]+\.py)`", cell):
        assert (ROOT / path).exists(), f"{change}: {path} does not exist"


def test_model_kinds_are_found_by_their_module_name():
    from fmnist_core.kinds import MODEL_KINDS

    modules = sorted(path.stem for path in (ROOT / "fmnist_core" / "kinds").glob("*.py") if path.stem != "__init__")
    assert sorted(MODEL_KINDS) == modules


def test_the_store_and_model_files_take_their_metrics_from_the_one_declaration():
    from dataclasses import fields

    from fmnist_core import metrics, runstore, transfer

    assert runstore.EPOCH_COLUMNS is metrics.METRIC_FIELDS
    assert transfer.METRIC_FIELDS is metrics.METRIC_FIELDS
    assert metrics.METRIC_FIELDS == tuple(field.name for field in fields(metrics.EpochMetrics))


def test_the_local_backend_has_the_written_interface(tmp_path):
    from fmnist_core.backends import select_backend
    from fmnist_core.backends.base import JobBackend

    assert isinstance(select_backend(tmp_path, None, max_jobs=1, address=""), JobBackend)


def test_every_page_has_its_own_apptest_file():
    pages = sorted(path.stem for path in (ROOT / "app_pages").glob("*.py"))
    missing = [page for page in pages if not (ROOT / "tests" / f"test_app_{page}.py").exists()]
    assert pages and not missing
