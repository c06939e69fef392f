"""The fair queue: who starts next on a shared server (issue #22: one student's 30 jobs made the next student 31st)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fmnist_core.fairqueue import FairQueue, QueuedJob, QueueFull
from fmnist_core.limits import MAX_QUEUED_PER_STUDENT


def job(key, student, class_code="", at=0.0):
    return QueuedJob(key, student, class_code, at)


def start_all(queue):
    """Start jobs on one slot (each ends before the next starts): the order they started in."""
    started = []
    while (chosen := queue.next_job([])) is not None:
        started.append(chosen.key)
    return started


def test_a_student_with_many_jobs_waiting_does_not_delay_another_students_first():
    queue = FairQueue(per_student=10)
    for number in range(10):
        queue.add(job(f"a{number}", "alice", at=number))
    first = queue.next_job([])  # alice's first job starts
    queue.add(job("b0", "bob", at=20))  # bob arrives while alice has nine more waiting
    assert first.key == "a0"
    assert queue.position("b0", running=[first]) == 1
    assert queue.next_job([]).key == "b0"  # counted in jobs started: bob's first is the next to start


def test_students_take_turns_and_classes_take_turns():
    queue = FairQueue(per_student=3)
    for student, class_code in (("a", "K1"), ("b", "K1"), ("c", "K2")):
        for number in range(3):
            queue.add(job(f"{student}{number}", student, class_code, at=len(queue)))
    order = start_all(queue)
    # classes alternate K1, K2, K1, K2 … while K2 has work; inside K1, students alternate a, b
    assert order[:6] == ["a0", "c0", "b0", "c1", "a1", "c2"]
    assert sorted(order) == sorted(f"{s}{n}" for s in "abc" for n in range(3))


def test_a_class_at_its_cap_waits_while_another_class_starts():
    queue = FairQueue()
    queue.add(job("k1a", "a", "K1", 0))
    queue.add(job("k1b", "b", "K1", 1))
    queue.add(job("k2c", "c", "K2", 2))
    running = [job("k1x", "x", "K1")]  # K1 already trains one job
    assert queue.next_job(running, caps={"K1": 1}).key == "k2c"
    assert queue.next_job(running + [job("k2c", "c", "K2")], caps={"K1": 1}) is None  # K1 is at its cap
    assert queue.next_job([], caps={"K1": 1}).key == "k1a"  # its job ended: the next one of K1 starts


def test_a_fourth_waiting_job_of_one_student_is_refused_with_the_reason():
    queue = FairQueue()
    for number in range(MAX_QUEUED_PER_STUDENT):
        queue.add(job(f"a{number}", "alice", at=number))
    with pytest.raises(QueueFull) as refused:
        queue.add(job("a9", "alice", at=9))
    assert refused.value.reason == "student" and refused.value.limit == MAX_QUEUED_PER_STUDENT
    queue.add(job("b0", "bob", at=10))  # another student is not affected
    assert queue.next_job([]).key == "a0"
    queue.add(job("a9", "alice", at=9))  # one of alice's started: she may queue another


def test_one_class_cannot_fill_the_server_however_many_browsers_its_students_use():
    queue = FairQueue(per_student=3, per_class=5, on_server=100)
    for number in range(5):  # five "students": one student's five private windows, say
        queue.add(job(f"k{number}", f"window-{number}", "K1"))
    with pytest.raises(QueueFull) as refused:
        queue.add(job("k9", "window-9", "K1"))
    assert refused.value.reason == "class"
    queue.add(job("other", "someone", "K2"))  # another class still gets in


def test_the_server_has_a_limit_too():
    queue = FairQueue(per_student=5, on_server=4)
    for number in range(4):
        queue.add(job(f"s{number}", f"student{number}"))
    with pytest.raises(QueueFull) as refused:
        queue.add(job("late", "late"))
    assert refused.value.reason == "server"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcde"), st.sampled_from(["", "K1", "K2"])), min_size=1, max_size=30))
def test_every_job_starts_once_and_no_student_gets_a_second_turn_while_another_waits_for_a_first(arrivals):
    queue = FairQueue(per_student=30, on_server=100, per_class=100)
    for number, (student, class_code) in enumerate(arrivals):
        queue.add(job(f"j{number}", student + class_code, class_code, at=number))
    order = queue.order(running=[])
    assert sorted(item.key for item in order) == sorted(f"j{number}" for number in range(len(arrivals)))
    started: dict[str, int] = {}
    for item in order:
        waiting_first = {other.student for other in order if other.student not in started}
        if item.student in started:  # a second (or later) job: only when everyone of its class started a first
            assert not {student for student in waiting_first
                        if any(o.class_code == item.class_code and o.student == student for o in order)}
        started[item.student] = started.get(item.student, 0) + 1
    assert len(queue) == len(arrivals)  # order() only looks
