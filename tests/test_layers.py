"""The core's imports follow its layers: no module imports another that imports it back, the core never imports
Streamlit, and reading checkpoints or the run store does not load the trainer or its C kernels."""
import ast
import subprocess
import sys

from conftest import ROOT

CORE = ROOT / "fmnist_core"


def core_imports(missing: list | None = None) -> dict[str, set[str]]:
    """Each core module's imports of other core modules, wherever they are written (function bodies too); the
    modules imported `from` that do not exist go into `missing` (a lazy import breaks only when it runs)."""
    graph, sources = {}, {}
    for path in sorted(CORE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(max(0, node.level - 1)):
                    base = base.rpartition(".")[0]
                target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
                names = [f"{target}.{alias.name}" for alias in node.names]
                # `from . import build` imports the module build, not its package's __init__
                found |= {name for name in ([target] if node.module else []) + names if name.startswith("fmnist_core")}
                if node.module and target.startswith("fmnist_core"):
                    sources.setdefault(target, []).append(module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name.startswith("fmnist_core")}
        graph[module] = found
    modules = set(graph)
    if missing is not None:
        missing += [(importer, target) for target, importers in sources.items() if target not in modules
                    for importer in importers]
    return {module: {name for name in names if name in modules and name != module} for module, names in graph.items()}


def test_no_two_core_modules_import_each_other_and_none_imports_streamlit():
    missing = []
    graph = core_imports(missing)
    assert not missing, missing
    cycles = [(a, b) for a, names in graph.items() for b in names if a in graph.get(b, ()) and a < b]
    assert not cycles, cycles
    for path in CORE.rglob("*.py"):
        assert "import streamlit" not in path.read_text(), path


def test_reading_checkpoints_and_the_run_store_does_not_load_the_trainer():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, fmnist_core.checkpoints, fmnist_core.runstore, fmnist_core.cache; "
                               "print(sorted(name for name in sys.modules if name.startswith('fmnist_core')))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "fmnist_core.training" not in loaded and "fmnist_core.kernels" not in loaded, loaded


# What pages may not load: the command line, and what drives training (it runs in workers and commands): the
# trainer, its optimizers and C kernels. Pages evaluate models through `evaluation`.
NOT_FOR_PAGES = ("fmnist_core.cli", "fmnist_core.console", "fmnist_core.precompute", "fmnist_core.bench",
                 "fmnist_core.runs", "fmnist_core.process", "fmnist_core.training", "fmnist_core.optimizers",
                 "fmnist_core.kernels")


def top_level_imports(path) -> set[str]:
    """Modules a file imports when it is loaded (not inside functions), as absolute names."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(0, node.level - 1)):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def loaded_by(start: set[str]) -> set[str]:
    """Every project module that loading `start` loads, following top-level imports."""
    files = {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
             for folder in ("fmnist_core", "fmnist_ui") for path in (ROOT / folder).rglob("*.py")}
    seen, todo = set(), [name for name in start if name in files]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [other for other in top_level_imports(files[name]) if other in files and other not in seen]
    return seen


def test_pages_load_neither_the_command_line_nor_the_trainer():
    """#25: the UI imported the trainer and the CLI for small helpers (as_input, grid_cnn, resumable_epoch)."""
    pages = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "fmnist_ui").glob("*.py"))]
    for page in pages:
        loaded = loaded_by(top_level_imports(page))
        forbidden = [name for name in loaded if name in NOT_FOR_PAGES or name.startswith(
            tuple(f"{module}." for module in NOT_FOR_PAGES))]
        assert not forbidden, (page.name, forbidden)


def test_no_two_ui_modules_import_each_other():
    """The lesson and the widgets used to import each other; the locks are their own module now."""
    graph = {}
    for path in (ROOT / "fmnist_ui").glob("*.py"):
        module = f"fmnist_ui.{path.stem}"
        graph[module] = {name for name in top_level_imports(path) if name.startswith("fmnist_ui.")}
        for node in ast.walk(ast.parse(path.read_text())):  # function bodies too
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                graph[module].add(f"fmnist_ui.{node.module}")
    cycles = [(a, b) for a, names in graph.items() for b in names if a in graph.get(b, ()) and a < b]
    assert not cycles, cycles
