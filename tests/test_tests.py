"""The suite itself: every test asserts something (issue #25 found tests that could not fail). A test passes this
when its body, or a helper of the tests it calls, holds an `assert`, `pytest.raises`/`warns`/`fail`, or Playwright's
`expect`."""
import ast

from conftest import ROOT

CHECKS = {"raises", "warns", "fail", "expect"}


def collected_tests(tree) -> list[ast.FunctionDef]:
    return [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]


def asserts(function, helpers: dict, seen: frozenset = frozenset()) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            called = node.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", None)
            if name in CHECKS:
                return True
            if name in helpers and name not in seen and asserts(helpers[name], helpers, seen | {name}):
                return True
    return False


def test_every_test_asserts_something():
    trees = {path: ast.parse(path.read_text()) for path in sorted((ROOT / "tests").glob("*.py"))}
    helpers = {}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                helpers.setdefault(node.name, node)
    silent = [f"{path.name}::{function.name}" for path, tree in trees.items() if path.name.startswith("test_")
              for function in collected_tests(tree) if not asserts(function, helpers)]
    assert len(helpers) > 400 and not silent, silent  # (every test and helper of the suite was read)


def test_the_check_sees_a_test_that_asserts_nothing():
    tree = ast.parse("def test_runs_only():\n    print(1 + 1)\n\n\ndef test_checks():\n    assert 1 + 1 == 2\n")
    assert [asserts(function, {}) for function in collected_tests(tree)] == [False, True]
