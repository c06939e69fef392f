"""AppTest for a server shared by a school (issue #22): the teacher's door, classes, their boards and jobs, the fair
queue's message, the disk quota's message, the projector's address."""
import json

import pytest

from conftest import (
    app,
    create_class,
    markdown_text,
    server_teacher_code,
    teacher_app,
    tiny_cnn_run,
    tiny_mlp_run,
    wait_for,
)
from fmnist_core.cache import open_store
from fmnist_core.limits import FREE_WRONG_ATTEMPTS
from fmnist_core.runs import train_run
from fmnist_ui import state
from fmnist_ui.share import decode_run

pytestmark = pytest.mark.usefixtures("fresh_app_resources")


def is_teacher_view(at) -> bool:
    return any(expander.label == "Teacher mode" for expander in at.sidebar.expander)


def test_teacher_1_opens_nothing_and_the_servers_code_opens_teacher_mode_then_leaves_the_address_bar():
    for guess in ("1", server_teacher_code()[:-1]):  # fewer than the free attempts: typing mistakes
        at = app(query={"teacher": guess})
        assert not is_teacher_view(at) and not at.exception
        assert "teacher" not in at.query_params
        assert "not right" in at.sidebar.warning[0].value  # the teacher who mistyped is told, a student sees no door
    teacher = teacher_app()
    assert is_teacher_view(teacher)
    assert "teacher" not in teacher.query_params  # gone at once, not only on the next page
    link = teacher.sidebar.code[0].value
    assert server_teacher_code() not in link and "teacher" not in link
    teacher.switch_page("app_pages/board.py").run()
    assert is_teacher_view(teacher)  # the tab stays the teacher's
    assert server_teacher_code() not in json.dumps(dict(teacher.query_params))


def test_a_student_never_sees_a_teacher_door():
    at = app()
    assert not is_teacher_view(at) and not at.sidebar.warning
    assert not any(text_input.label == "Teacher code" for text_input in at.sidebar.text_input)


def test_the_nth_wrong_teacher_code_is_not_even_looked_at_and_the_wait_grows():
    at = app(query={"teacher": "wrong-0"})
    for attempt in range(1, FREE_WRONG_ATTEMPTS):
        [field] = [field for field in at.sidebar.text_input if field.label == "Teacher code"]
        field.input(f"wrong-{attempt}")
        [button] = [button for button in at.sidebar.button if button.label == "Open teacher mode"]
        button.click().run()
    assert "Too many wrong teacher codes" in at.sidebar.warning[0].value
    [field] = [field for field in at.sidebar.text_input if field.label == "Teacher code"]
    field.input(server_teacher_code())  # even the right code waits its turn
    [button] = [button for button in at.sidebar.button if button.label == "Open teacher mode"]
    button.click().run()
    assert not is_teacher_view(at) and "Too many wrong teacher codes" in at.sidebar.warning[0].value
    limiter = state.guess_limiters()["teacher"]
    assert limiter.wait_seconds("session:another-tab", "address:local") > 0  # another tab of that machine waits too
    assert limiter.wait_seconds("session:another-tab", "address:10.0.0.9") == 0  # another machine does not


def test_a_class_code_carries_locks_and_later_changes_reach_students_who_have_it_open():
    teacher = teacher_app()
    teacher.multiselect(key="teacher_lock").set_value(["epochs"]).run()  # before the class: it takes them along
    code = create_class(teacher)
    assert len(code) == 6
    student = app(query={"c": code.lower()})
    assert not student.exception
    assert student.slider(key="epochs").disabled and not student.select_slider(key="lr").disabled
    assert any("You are in class **Period 1**" in caption.value for caption in student.sidebar.caption)
    teacher.multiselect(key="teacher_lock").set_value(["epochs", "lr"]).run()  # later, on the projector
    student.run()  # the student's next refresh (the watching fragment's, or any click)
    assert student.select_slider(key="lr").disabled and not student.exception


def test_a_student_types_the_code_from_the_projector_and_a_wrong_one_is_explained():
    teacher = teacher_app()
    code = create_class(teacher)
    teacher.multiselect(key="teacher_hide").set_value(["advanced"]).run()
    student = app()
    student.sidebar.text_input[0].input("QQQQQQ")
    student.sidebar.button[0].click().run()
    assert "No class with the code “QQQ QQQ”" in student.sidebar.warning[0].value
    student.sidebar.text_input[0].input(f"{code[:3]} {code[3:]}".lower())
    student.sidebar.button[0].click().run()
    assert not any(expander.label == "Advanced settings" for expander in student.expander)
    assert not student.exception


def test_wrong_class_codes_are_slowed_down():
    student = app()
    for attempt in range(FREE_WRONG_ATTEMPTS + 1):
        student.sidebar.text_input[0].input(f"QQQQQ{'ACDEF'[attempt % 5]}")
        student.sidebar.button[0].click().run()
    assert "Too many wrong codes from here" in student.sidebar.warning[0].value


def test_the_lesson_is_saved_on_the_teachers_actions_not_on_reruns_and_a_reload_keeps_the_class():
    teacher = teacher_app()
    code = create_class(teacher)
    first = state.classes().get(code)
    assert decode_run(first.settings.spec).model.conv_channels == (32, 32)  # the model when the class was made
    teacher.select_slider(key="filters_1").set_value(64).run()
    assert state.classes().get(code).version == first.version  # moving a slider sends nothing
    [send] = [button for button in teacher.sidebar.button if button.label == "Send my current model to the class"]
    send.click().run()
    assert decode_run(state.classes().get(code).settings.spec).model.conv_channels == (64, 32)
    version = state.classes().get(code).version
    again = teacher_app(query={"c": code})  # the teacher's reload, or a new tab: the class is back, unchanged
    assert any(element.value.startswith("Class **Period 1**") for element in again.sidebar.markdown)
    again.switch_page("app_pages/board.py").run()
    assert state.classes().get(code).version == version


def test_two_classes_keep_their_own_boards_and_jobs_and_share_the_cache(isolated_home, small_data):
    first_teacher, second_teacher = teacher_app(), teacher_app()
    first, second = create_class(first_teacher, "Period 1"), create_class(second_teacher, "Period 2")
    ana, bea = app(query={"c": first}), app(query={"c": second})
    store = open_store(isolated_home)
    shared = tiny_cnn_run(epochs=1)
    train_run(shared, store, isolated_home, data=small_data)
    for student in (ana, bea):  # both ask for the same spec: both answered from one training
        assert state.job_manager().submit(shared, owner=student.session_state["owner"]).state == "cached"
    only_ana = tiny_mlp_run(epochs=1)
    train_run(only_ana, store, isolated_home, data=small_data)
    state.job_manager().submit(only_ana, owner=ana.session_state["owner"])
    for teacher, code, expected in ((first_teacher, first, {shared.key, only_ana.key}),
                                    (second_teacher, second, {shared.key})):
        teacher.switch_page("app_pages/board.py").run()
        assert any("from 1 browser ·" in caption.value for caption in teacher.caption)  # its own student only
        assert {entry.record.key for entry in store.board(code)} == expected
    [clear] = [button for button in second_teacher.button if button.label.startswith("Clear the board")]
    clear.click().run()
    [confirm] = [button for button in second_teacher.button if button.label == "Clear the board"]
    confirm.click().run()
    assert store.board(second) == [] and len(store.board(first)) == 2  # one class's clear is its own
    assert store.board() == []  # students in no class saw neither


def test_a_teacher_sees_and_stops_only_the_jobs_of_their_class():
    teacher, other_teacher = teacher_app(), teacher_app()
    code, other = create_class(teacher, "Period 1"), create_class(other_teacher, "Period 2")
    ana, bea = app(query={"c": code}), app(query={"c": other})
    manager = state.job_manager()
    ours = [tiny_cnn_run(epochs=30, seed=seed) for seed in range(manager.max_jobs + 1)]
    for run in ours:
        manager.submit(run, owner=ana.session_state["owner"], student=f"ana-{run.key}")
    theirs = tiny_mlp_run(epochs=30, seed=5)
    manager.submit(theirs, owner=bea.session_state["owner"])
    assert wait_for(lambda: state.store().get(ours[0].key).status == "running", 60)
    ana.switch_page("app_pages/board.py").run()
    assert "The class's jobs" not in markdown_text(ana)
    teacher.switch_page("app_pages/board.py").run()
    assert not teacher.exception
    assert not any(button.key == f"class_stop_{theirs.key}" for button in teacher.button)
    text = markdown_text(teacher)
    assert "The class's jobs" in text and "training, " in text and "waiting, number" in text
    for run in ours:
        [stop] = [button for button in teacher.button if button.key == f"class_stop_{run.key}"]
        stop.click().run()
    assert wait_for(lambda: all(state.store().get(run.key).status == "cancelled" for run in ours), 60)
    assert all(state.store().get(run.key).stopped_by == "teacher" for run in ours)
    assert state.store().get(theirs.key).status in ("queued", "running")  # the other class's job goes on
    manager.cancel(theirs.key, who=bea.session_state["owner"])


def test_a_fourth_train_waits_and_the_page_says_why():
    at = app()
    manager = state.job_manager()
    owner = at.session_state["owner"]
    for seed in range(manager.max_jobs + 3):  # the running ones, then three waiting
        manager.submit(tiny_cnn_run(epochs=30, seed=seed), owner=owner, student=f"session:{owner}")
    at.select_slider(key="filters_1").set_value(16).run()
    [train] = [button for button in at.button if button.label == "Train"]
    train.click().run()
    assert any("You already have 3 runs waiting" in warning.value for warning in at.warning)
    for seed in range(manager.max_jobs + 3):
        manager.cancel(tiny_cnn_run(epochs=30, seed=seed).key, who=owner)


def test_the_projector_shows_an_address_students_can_open(monkeypatch):
    from fmnist_core.teacher import public_base_url

    monkeypatch.setenv("FMNIST_PUBLIC_URL", "https://explorer.school.example")
    teacher = teacher_app()
    code = create_class(teacher)
    [show] = [button for button in teacher.sidebar.button if button.label.startswith("Show the code and QR")]
    show.click().run()
    assert any(f"https://explorer.school.example/?c={code}" in block.value for block in teacher.code)
    # without it, a teacher on localhost hands out this machine's network address (and the dialog says so)
    base, source = public_base_url("http://localhost:8501", environ={}, address=lambda: "10.0.0.5")
    assert (base, source) == ("http://10.0.0.5:8501", "network")


def test_a_link_with_something_else_than_a_code_is_not_echoed():
    student = app(query={"c": "![](//ev.il/x)"})
    assert not student.exception
    [warning] = student.sidebar.warning
    assert warning.value.startswith("That is not a class code") and "ev.il" not in warning.value


def test_the_guided_lesson_leaves_the_model_to_a_teachers_lesson():
    teacher = teacher_app()
    teacher.multiselect(key="teacher_lock").set_value(["filters"]).run()
    code = create_class(teacher)
    student = app(query={"c": code, "step": "6"})
    student.switch_page("app_pages/lesson.py").run()
    assert student.subheader[0].value.startswith("6. ")
    assert student.session_state["filters_1"] == 32  # the lesson's 32 filters, not the step's 16


def test_the_teacher_deletes_a_model_brought_in_by_file_and_sets_the_classs_running_cap(isolated_home, small_data):
    from fmnist_core.transfer import export_run, import_run

    other_home = isolated_home / "elsewhere"
    other_store = open_store(other_home)
    run = tiny_cnn_run(epochs=1)
    train_run(run, other_store, other_home, data=small_data)
    store = open_store(isolated_home)
    import_run(isolated_home, store, export_run(other_home, other_store, run.key), data=small_data)
    teacher = teacher_app()
    code = create_class(teacher)
    slots = state.job_manager().max_jobs  # what it shows until the teacher chooses: the server's own slots
    assert teacher.number_input(key="class_running_cap").value == slots
    teacher.number_input(key="class_running_cap").set_value(slots + 1).run()
    assert state.classes().get(code).running_cap == slots + 1
    teacher.switch_page("app_pages/board.py").run()
    assert any(expander.label == "Models brought in by file (1)" for expander in teacher.expander)
    teacher.button(key=f"delete_{run.key}").click().run()
    assert store.get(run.key) is None and not any(
        expander.label.startswith("Models brought in by file") for expander in teacher.expander)
    assert any("Disk used by runs and models" in caption.value for caption in teacher.sidebar.caption)


def test_an_evicted_run_says_so_and_trains_again(isolated_home, small_data):
    from fmnist_core.quota import evict
    from fmnist_ui.widgets import spec_to_state

    run = tiny_cnn_run(epochs=1)
    store = open_store(isolated_home)
    train_run(run, store, isolated_home, data=small_data)
    assert evict(isolated_home, store, run.key, reason="disk quota")
    at = app(**spec_to_state(run))
    assert any("files were removed to keep the server within its disk space" in info.value for info in at.info)
    assert any(button.label == "Train" for button in at.button)  # asking again trains it again
