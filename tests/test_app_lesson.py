"""AppTest for the guided lesson: steps in order, answered from the cache, progress in the link."""
import pytest

from conftest import app
from fmnist_core.cache import open_store
from fmnist_core.runs import train_run
from fmnist_ui import state
from fmnist_ui.guide import STEPS, missing_runs

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


def lesson(**kwargs):
    at = app(**kwargs)
    at.switch_page("app_pages/lesson.py").run()
    assert not at.exception
    return at


def test_the_lesson_opens_at_the_linked_step_and_keeps_its_progress_in_the_link():
    at = lesson(query={"step": "6"})
    assert at.subheader[0].value == "6. 16, 32 or 64 filters"
    assert at.query_params["step"] == "6"
    assert at.session_state["filters_1"] == 16  # the step set the Build & train widgets to its model
    at.button(key="guide_next").click().run()
    assert at.subheader[0].value == "7. Remove or add a conv layer" and at.query_params["step"] == "7"
    at.switch_page("app_pages/train.py").run()
    assert at.query_params["step"] == "7"  # a reload on another page still resumes the lesson there
    for bad in ("0", "99", "x", "٣"):
        assert lesson(query={"step": bad}).subheader[0].value.startswith("1. ")


def test_the_lesson_begins_with_a_convolution_the_student_steps_through():
    at = lesson(query={"step": "1"})
    assert at.subheader[0].value == "1. What is a convolution?"
    assert "Position 1 of 9" in "\n".join(element.value for element in at.markdown)
    at.radio(key="guide_conv_padding").set_value("same").run()
    assert "gives a 5×5 output" in at.success[0].value  # the notice reads the numbers on screen
    at.button(key="guide_conv_same_1_forward").click().run()
    assert "Position 2 of 25" in "\n".join(element.value for element in at.markdown)


def test_a_step_whose_runs_are_missing_trains_them_from_its_button(isolated_home):
    at = lesson(query={"step": "2"})
    assert "needs 1 run(s)" in at.info[1].value
    at.button(key="guide_train_mlp").click().run()
    [run] = STEPS[1].runs
    assert state.store().get(run.key).status in ("queued", "running")
    assert not missing_runs(STEPS[1])
    state.job_manager().cancel(run.key, who="teacher", teacher_of="")


@pytest.mark.slow
def test_every_step_answers_from_the_cache_and_says_what_to_notice(isolated_home, data):
    from fmnist_core.data import FashionMNIST

    few = FashionMNIST(data.train_images[:2000], data.train_labels[:2000], data.test_images[:2000],
                       data.test_labels[:2000], data.source)
    store = open_store(isolated_home)
    for run in {run for step in STEPS for run in step.runs}:  # the precomputed grid, on fewer images
        train_run(run, store, isolated_home, data=few)
    at = lesson()  # English: AppTest cannot switch pages in Spanish (radio labels); the browser test walks in Spanish
    for position, step in enumerate(STEPS, start=1):
        assert at.subheader[0].value.startswith(f"{position}. ")
        assert not any(button.key and button.key.startswith("guide_train_") for button in at.button)
        assert at.success, step.name  # what to notice, with this server's numbers
        notice = at.success[0].value
        assert any(character.isdigit() for character in notice)
        if step.name == "overfitting":
            assert "Validation loss is lowest at epoch" in notice
        if step.name == "looked":
            assert "The CNN's heat is at the" in notice and "the MLP's is at the" in notice
        elif step.images:
            answers = [element.value for element in at.markdown if "the model says" in element.value]
            assert [answer.split("**")[1] for answer in answers] == [f"#{index}" for index in step.images]
            if step.name == "shoes":  # the notice names exactly the images marked wrong on screen
                missed = [answer.split("**")[1] for answer in answers if answer.endswith("✗")]
                assert all(f"{number}, a" in notice for number in missed)
                assert ("Missed:" in notice) == bool(missed)
        if position < len(STEPS):
            at.button(key="guide_next").click().run()
            assert not at.exception
