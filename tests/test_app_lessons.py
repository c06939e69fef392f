"""AppTest for the classroom features: teacher mode and lesson links, class board, MLP vs CNN, resume."""
import json
import time

import pytest

from conftest import app, markdown_text, tiny_cnn_run, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.runs import train_run
from fmnist_ui import state
from fmnist_ui.widgets import spec_to_state

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


def wait_until_done(keys, timeout=180.0):
    store = state.store()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(store.get(key) is not None and store.get(key).status == "done" for key in keys):
            return True
        time.sleep(0.5)
    return False


def test_a_lesson_link_locks_and_hides_controls_for_students():
    at = app(query={"lock": "epochs,optimizer,nonsense", "hide": "advanced,presets"})
    assert not at.exception
    assert at.slider(key="epochs").disabled and at.radio(key="optimizer").disabled
    assert not at.select_slider(key="lr").disabled
    assert not any(expander.label == "Advanced settings" for expander in at.expander)
    assert not any(button.key and button.key.startswith("preset_") for button in at.button)
    assert not any(expander.label == "Teacher mode" for expander in at.sidebar.expander)  # a student
    at.switch_page("app_pages/compare.py").run()
    at.switch_page("app_pages/train.py").run()
    assert at.slider(key="epochs").disabled  # the lesson survives page switches


def test_teacher_mode_chooses_locks_and_gives_a_student_link_without_itself(monkeypatch):
    monkeypatch.delenv("FMNIST_TEACHER_CODE", raising=False)
    at = app(query={"teacher": "1"})
    assert any(expander.label == "Teacher mode" for expander in at.sidebar.expander)
    at.multiselect(key="teacher_lock").set_value(["filters", "lr"]).run()
    assert all(at.select_slider(key=key).disabled for key in ("filters_1", "filters_2", "lr"))
    link = at.sidebar.code[0].value
    assert "lock=filters%2Clr" in link and "spec=" in link and "teacher" not in link


def test_a_wrong_teacher_code_gives_no_teacher_mode(monkeypatch):
    monkeypatch.setenv("FMNIST_TEACHER_CODE", "owl-42")
    assert not any(expander.label == "Teacher mode" for expander in app(query={"teacher": "1"}).sidebar.expander)
    assert any(expander.label == "Teacher mode" for expander in app(query={"teacher": "owl-42"}).sidebar.expander)


def test_class_board_highlights_my_runs_and_the_teacher_clears_it(isolated_home, small_data):
    store = open_store(isolated_home)
    mine, theirs = tiny_cnn_run(epochs=1), tiny_mlp_run(epochs=1)
    train_run(mine, store, isolated_home, data=small_data, owner="me")
    train_run(theirs, store, isolated_home, data=small_data, owner="someone")
    at = app(owner="me")
    at.switch_page("app_pages/board.py").run()
    assert not at.exception
    assert "2 runs from 2 browser(s) · yours: 1" in at.caption[0].value
    traces = {trace["name"]: trace for trace in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]}
    assert set(traces) == {"CNN, 1 conv · yours", "MLP, 1 hidden"}
    assert traces["CNN, 1 conv · yours"]["marker"]["symbol"] == "star"
    assert not any(button.label.startswith("Clear the board") for button in at.button)

    teacher = app(query={"teacher": "1"})
    teacher.switch_page("app_pages/board.py").run()
    [clear] = [button for button in teacher.button if button.label.startswith("Clear the board")]
    clear.click().run()
    assert "Take all 2 runs off the class board?" in teacher.warning[0].value  # asked first
    assert len(store.board()) == 2
    [keep] = [button for button in teacher.button if button.label == "Keep it"]
    keep.click().run()
    assert len(store.board()) == 2
    [clear] = [button for button in teacher.button if button.label.startswith("Clear the board (")]
    clear.click().run()
    [confirm] = [button for button in teacher.button if button.label == "Clear the board"]
    confirm.click().run()
    assert "No runs on the board yet" in teacher.info[0].value
    assert not teacher.warning  # the question is gone once answered
    assert store.get(mine.key).status == "done"  # cleared from the board, still cached
    store.post(mine.key, "me")  # fetched again after the clear: back on the board
    assert [entry.record.key for entry in store.board()] == [mine.key]


@pytest.mark.slow
def test_mlp_vs_cnn_trains_both_on_one_recipe_and_compares_them():
    small = spec_to_state(tiny_cnn_run(epochs=1, shuffle=True))
    at = app(**small)
    at.switch_page("app_pages/pair.py").run()
    assert not at.exception
    assert "seed 0" in at.caption[0].value
    [train_both] = [button for button in at.button if button.label.startswith("Train both")]
    train_both.click().run()
    keys = [record.key for record in state.store().all()]
    assert len(keys) == 2
    runs = [state.store().get(key).run for key in keys]
    assert runs[0].train == runs[1].train and {run.model.kind for run in runs} == {"mlp", "cnn"}
    assert wait_until_done(keys)
    at.run()
    table = at.dataframe[0].value
    assert list(table["Model"]) == ["MLP (dense only)", "CNN (convolutional)"]
    assert (table["Best val. acc."] > 70).all() and (table["Parameters"] > 0).all()
    assert "fewer mistakes" in at.success[0].value and "per 100k" not in str(list(table.columns))
    assert list(table.columns).count("Wrong in 100 test images") == 1
    assert [board.record.key for board in state.store().board()]  # both went on the class board


@pytest.mark.slow
def test_an_interrupted_run_offers_resume_and_goes_on_from_its_last_epoch(isolated_home, small_data):
    run = tiny_mlp_run(epochs=3, seed=21)
    store = open_store(isolated_home)
    finished = []
    train_run(run, store, isolated_home, data=small_data, on_epoch=finished.append,
              should_stop=lambda: len(finished) >= 1)
    at = app(**spec_to_state(run))
    assert "Stopped after 1 finished epoch." in at.warning[0].value  # one epoch, not "1 finished epochs"
    [resume] = [button for button in at.button if button.label == "Resume from epoch 1"]
    assert any(button.label == "Restart from scratch" for button in at.button)
    resume.click().run()
    assert wait_until_done([run.key])
    record = state.store().get(run.key)
    assert [metrics.epoch for metrics in record.history] == [1, 2, 3] and record.history[0] == finished[0]


def test_explore_offers_the_model_file_and_shows_an_upload_outcome(isolated_home, small_data):
    run = tiny_cnn_run(epochs=1)
    train_run(run, open_store(isolated_home), isolated_home, data=small_data)
    at = app()
    at.switch_page("app_pages/explore.py").run()
    [download] = at.get("download_button")
    assert download.proto.label == "Download this model (.pt)"
    at.session_state["model_upload_outcome"] = ("error", "not_model", "the file: unreadable or unsafe checkpoint")
    at.run()
    assert "This file cannot be used: it is not a model saved by this app" in at.error[0].value
    at.query_params["lang"] = "es"
    at.session_state["lang"] = "es"
    at.run()
    assert "no es un modelo guardado por esta aplicación" in at.error[0].value


def teacher_code(at) -> str:
    [text] = [element.value for element in at.sidebar.markdown if element.value.startswith("Lesson code:")]
    return text.split("**")[1]


def test_a_lesson_code_carries_locks_and_later_changes_reach_students_who_have_it_open(monkeypatch):
    monkeypatch.delenv("FMNIST_TEACHER_CODE", raising=False)
    teacher = app(query={"teacher": "1"})
    teacher.multiselect(key="teacher_lock").set_value(["epochs"]).run()
    [make] = [button for button in teacher.sidebar.button if button.label.startswith("Make a lesson code")]
    make.click().run()
    code = teacher_code(teacher)
    assert len(code) == 4

    student = app(query={"c": code.lower()})
    assert not student.exception
    assert student.slider(key="epochs").disabled and not student.select_slider(key="lr").disabled
    assert any(f"You follow lesson {code}" in caption.value for caption in student.sidebar.caption)

    teacher.multiselect(key="teacher_lock").set_value(["epochs", "lr"]).run()  # later, on the projector
    student.run()  # the student's next refresh (the watching fragment's, or any click)
    assert student.select_slider(key="lr").disabled and not student.exception


def test_a_student_types_the_code_from_the_projector_and_a_wrong_one_is_explained(monkeypatch):
    monkeypatch.delenv("FMNIST_TEACHER_CODE", raising=False)
    teacher = app(query={"teacher": "1"})
    teacher.multiselect(key="teacher_hide").set_value(["advanced"]).run()
    [make] = [button for button in teacher.sidebar.button if button.label.startswith("Make a lesson code")]
    make.click().run()
    code = teacher_code(teacher)

    student = app()
    student.sidebar.text_input[0].input("QQQQ")
    student.sidebar.button[0].click().run()
    assert "No lesson with the code “QQQQ”" in student.sidebar.warning[0].value
    student.sidebar.text_input[0].input(f"{code[:2]} {code[2:]}".lower())
    student.sidebar.button[0].click().run()
    assert not any(expander.label == "Advanced settings" for expander in student.expander)
    assert not student.exception


def test_the_teacher_sees_the_class_jobs_and_stops_them(isolated_home, monkeypatch):
    from conftest import wait_for

    monkeypatch.delenv("FMNIST_TEACHER_CODE", raising=False)
    student = app()
    manager = state.job_manager()
    runs = [tiny_cnn_run(epochs=30, seed=seed) for seed in range(manager.max_jobs + 1)]
    for position, run in enumerate(runs):
        manager.submit(run, owner=f"student-{position}")
    assert wait_for(lambda: state.store().get(runs[0].key).status == "running", 60)
    student.switch_page("app_pages/board.py").run()
    assert "The class's jobs" not in markdown_text(student)
    teacher = app(query={"teacher": "1"})
    teacher.switch_page("app_pages/board.py").run()
    assert not teacher.exception
    text = markdown_text(teacher)
    assert "The class's jobs" in text and "training, " in text and "waiting, number 1 in the queue" in text
    for run in runs:
        [stop] = [button for button in teacher.button if button.key == f"class_stop_{run.key}"]
        stop.click().run()
    assert wait_for(lambda: all(state.store().get(run.key).status == "cancelled" for run in runs), 60)
    assert all(state.store().get(run.key).stopped_by == "teacher" for run in runs)
    teacher.run()
    assert "No job is running or waiting." in [caption.value for caption in teacher.caption]


def test_the_lesson_hands_out_the_teachers_current_model_and_a_reload_keeps_the_code(monkeypatch):
    from fmnist_ui.lesson import lessons
    from fmnist_ui.share import decode_run

    monkeypatch.delenv("FMNIST_TEACHER_CODE", raising=False)
    teacher = app(query={"teacher": "1"})
    [make] = [button for button in teacher.sidebar.button if button.label.startswith("Make a lesson code")]
    make.click().run()
    code = teacher_code(teacher)
    teacher.select_slider(key="filters_1").set_value(64).run()
    assert decode_run(lessons().get(code).settings.spec).model.conv_channels == (64, 32)  # this run's, not the last
    teacher.switch_page("app_pages/board.py").run()  # no spec in the address there: the lesson keeps its model
    assert decode_run(lessons().get(code).settings.spec).model.conv_channels == (64, 32)
    again = app(query={"teacher": "1", "c": code})  # the teacher's reload or a new tab
    assert teacher_code(again) == code and not any(button.label.startswith("Make a lesson code")
                                                   for button in again.sidebar.button)


def test_a_link_with_something_else_than_a_code_is_not_echoed():
    student = app(query={"c": "![](//ev.il/x)"})
    assert not student.exception
    [warning] = student.sidebar.warning
    assert warning.value.startswith("That is not a lesson code") and "ev.il" not in warning.value


def test_the_guided_lesson_leaves_the_model_to_a_teachers_lesson(monkeypatch):
    monkeypatch.delenv("FMNIST_TEACHER_CODE", raising=False)
    teacher = app(query={"teacher": "1"})
    teacher.multiselect(key="teacher_lock").set_value(["filters"]).run()
    [make] = [button for button in teacher.sidebar.button if button.label.startswith("Make a lesson code")]
    make.click().run()
    student = app(query={"c": teacher_code(teacher), "step": "5"})
    student.switch_page("app_pages/lesson.py").run()
    assert student.subheader[0].value.startswith("5. ")
    assert student.session_state["filters_1"] == 32  # the lesson's 32 filters, not the step's 16
