"""Lesson codes: short, stored on the server, versioned; anything typed is checked before it is looked up."""
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fmnist_core.lessons import (
    CODE_ALPHABET,
    CODE_LENGTH,
    LessonError,
    LessonSettings,
    checked_settings,
    open_lessons,
    parse_code,
)
from fmnist_core.specs import MAX_SPEC_TEXT


def test_a_lesson_is_found_by_its_short_code_typed_in_any_case(isolated_home):
    lessons = open_lessons(isolated_home)
    code = lessons.create(LessonSettings(lock=("epochs",), hide=("advanced",), spec="abc"))
    assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    typed = f" {code[:2].lower()}-{code[2:]} "
    lesson = lessons.get(typed)
    assert lesson.code == code and lesson.version == 1
    assert lesson.settings == LessonSettings(lock=("epochs",), hide=("advanced",), spec="abc")


def test_a_change_bumps_the_version_and_the_same_settings_do_not(isolated_home):
    lessons = open_lessons(isolated_home)
    code = lessons.create(LessonSettings())
    assert lessons.update(code, LessonSettings()) == 1
    assert lessons.update(code, LessonSettings(lock=("lr",))) == 2
    assert lessons.get(code).settings.lock == ("lr",)
    assert lessons.update("ZZZZ", LessonSettings()) == 0  # no such lesson


def test_codes_do_not_collide(isolated_home):
    lessons = open_lessons(isolated_home)
    codes = {lessons.create(LessonSettings()) for _ in range(200)}
    assert len(codes) == 200


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
    assert parse_code(text) is None or len(text) <= 16
