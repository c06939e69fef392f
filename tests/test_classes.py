"""Classes on one server: codes, lessons, members, a board per class (issue #22), in the run store."""
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import tiny_cnn_run, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.classes import (
    ClassStore,
    LessonError,
    LessonSettings,
    checked_settings,
    display_code,
    parse_code,
)
from fmnist_core.limits import CODE_ALPHABET, CODE_LENGTH, MAX_CODE_TEXT
from fmnist_core.specs import MAX_SPEC_TEXT


@pytest.fixture
def store(isolated_home, database_url):
    """The run store on SQLite, then on PostgreSQL (every test of this module runs on both)."""
    return open_store(isolated_home)


@pytest.fixture
def classes(store):
    return ClassStore(store)


def finished(store, run, owner):
    """A run with one epoch recorded, posted by `owner` (what a trained or fetched run looks like to a board)."""
    from fmnist_core.metrics import EpochMetrics

    store.queue(run, 100, owner=owner)
    store.add_epoch(run.key, EpochMetrics(1, 0.5, 0.8, 0.5, 0.8, 1.0, 100.0))
    store.finish(run.key, "done")
    store.post(run.key, owner)


def test_a_class_is_found_by_its_code_typed_in_any_case(classes):
    code = classes.create("3ºB Tuesday", LessonSettings(lock=("epochs",), hide=("advanced",), spec="abc"))
    assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    typed = f" {code[:3].lower()}-{code[3:]} "
    found = classes.get(typed)
    assert found.code == code and found.version == 1 and found.name == "3ºB Tuesday"
    assert found.settings == LessonSettings(lock=("epochs",), hide=("advanced",), spec="abc")
    assert display_code(code) == f"{code[:3]} {code[3:]}" and parse_code(display_code(code)) == code


def test_a_change_bumps_the_version_and_the_same_settings_do_not(classes):
    code = classes.create("A")
    assert classes.update(code, LessonSettings()) == 1
    assert classes.update(code, LessonSettings(lock=("lr",))) == 2
    assert classes.get(code).settings.lock == ("lr",)
    assert classes.update("ZZZZZZ", LessonSettings()) == 0  # no such class


def test_codes_do_not_collide_and_names_are_checked(classes):
    codes = {classes.create(f"class {number}") for number in range(200)}
    assert len(codes) == 200
    with pytest.raises(LessonError):
        classes.create("   ")
    with pytest.raises(LessonError):
        classes.create("x" * 41)
    with pytest.raises(LessonError):
        classes.set_running_cap(next(iter(codes)), 0)


def test_two_classes_keep_their_own_boards_and_share_the_cache(store, classes):
    first, second = classes.create("Period 1"), classes.create("Period 2")
    classes.join("ana", first)
    classes.join("bea", second)
    shared, own = tiny_cnn_run(), tiny_mlp_run()
    finished(store, shared, "ana")
    finished(store, own, "ana")
    store.post(shared.key, "bea")  # bea asked for the same spec: answered from the cache, posted on her board
    assert {entry.record.key for entry in store.board(first)} == {shared.key, own.key}
    assert {entry.record.key for entry in store.board(second)} == {shared.key}
    assert [entry.owners for entry in store.board(second)] == [frozenset({"bea"})]  # ana is not on it
    assert store.board() == []  # the board of students in no class has neither
    store.clear_board(first)
    assert store.board(first) == [] and len(store.board(second)) == 1  # one class's clear is its own


def test_a_student_in_no_class_and_the_command_line_use_the_servers_board(store, classes):
    classes.join("ana", classes.create("Period 1"))
    finished(store, tiny_cnn_run(), "carl")  # carl follows no class
    cli_run = tiny_mlp_run()
    store.queue(cli_run, 10, owner="cli")
    from fmnist_core.metrics import EpochMetrics

    store.add_epoch(cli_run.key, EpochMetrics(1, 0.5, 0.8, 0.5, 0.8, 1.0, 100.0))
    assert {entry.record.key for entry in store.board()} == {tiny_cnn_run().key, cli_run.key}


def test_the_class_jobs_are_the_active_runs_its_members_asked_for(store, classes):
    first, second = classes.create("Period 1"), classes.create("Period 2")
    classes.join("ana", first)
    classes.join("bea", second)
    store.queue(tiny_cnn_run(), 10, owner="ana")
    store.post(tiny_cnn_run().key, "ana")
    store.queue(tiny_mlp_run(), 10, owner="bea")
    store.post(tiny_mlp_run().key, "bea")
    assert store.class_active_keys(first) == [tiny_cnn_run().key]
    assert store.class_active_keys(second) == [tiny_mlp_run().key]
    assert classes.class_of("ana") == first and classes.class_of("nobody") is None
    classes.join("ana", second)  # a student moves to another class: one class at a time
    assert classes.class_of("ana") == second


def test_oversized_settings_are_refused():
    with pytest.raises(LessonError):
        checked_settings(["x"] * 33, [], None)
    with pytest.raises(LessonError):
        checked_settings(["x" * 33], [], None)
    with pytest.raises(LessonError):
        checked_settings([], [], "a" * (MAX_SPEC_TEXT + 1))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_anything_typed_is_either_a_valid_code_or_none(text):
    code = parse_code(text)
    assert code is None or (len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET))


@given(st.text(alphabet=string.printable, max_size=10**5).map(lambda text: text * 10))
@settings(max_examples=20, deadline=None)
def test_a_long_text_is_refused_without_being_looked_up(text):
    assert parse_code(text) is None or len(text) <= MAX_CODE_TEXT


def test_a_store_of_the_previous_schema_gains_classes_and_keeps_its_board(isolated_home, monkeypatch):
    """A run store written before classes (schema 4) opens: its board posts belong to no class."""
    import sqlite3

    from fmnist_core import runstore

    monkeypatch.delenv("FMNIST_DATABASE_URL", raising=False)  # an SQLite file written by the previous release
    path = isolated_home / "runs.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.executescript(runstore.SCHEMA.split("CREATE TABLE IF NOT EXISTS classes")[0]
                                 .replace("    last_used_at REAL\n", "").replace(",\n    epoch_images INTEGER,",
                                                                               ",\n    epoch_images INTEGER")
                                 .replace("    class_code TEXT NOT NULL DEFAULT '',\n", ""))
        connection.execute("PRAGMA user_version = 4")
    store = open_store(isolated_home)
    finished(store, tiny_cnn_run(), "carl")
    assert [entry.record.key for entry in store.board()] == [tiny_cnn_run().key]
    assert ClassStore(store).create("After the upgrade")
