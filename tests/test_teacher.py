"""The teacher's door and guessing (issue #22: any `?teacher=` value opened teacher mode; a 3-digit code fell in
18 s; the QR pointed at 127.0.0.1)."""
import os
import stat

import pytest

from fmnist_core.limits import FIRST_DELAY_SECONDS, FREE_WRONG_ATTEMPTS, MIN_TEACHER_CODE_LENGTH
from fmnist_core.teacher import (
    CODE_FILE,
    AttemptLimiter,
    TeacherCodeError,
    code_matches,
    public_base_url,
    teacher_code,
    teacher_link,
)


def test_without_an_administrators_code_the_server_makes_one_keeps_it_and_nobody_else_reads_it(isolated_home):
    code = teacher_code(isolated_home, environ={})
    assert len(code) >= 16 and code == teacher_code(isolated_home, environ={})  # the same after a restart
    assert stat.S_IMODE(os.stat(isolated_home / CODE_FILE).st_mode) == 0o600
    assert not code_matches("1", code) and not code_matches("", code) and not code_matches(None, code)
    assert code_matches(code, code) and not code_matches(code[:-1], code) and not code_matches(code + "x", code)
    assert teacher_link("http://10.0.0.5:8501/", code) == f"http://10.0.0.5:8501/?teacher={code}"


def test_an_administrators_code_wins_and_a_short_one_is_refused(isolated_home):
    strong = "correct-horse-battery-staple"
    assert teacher_code(isolated_home, environ={"FMNIST_TEACHER_CODE": strong}) == strong
    with pytest.raises(TeacherCodeError, match="FMNIST_TEACHER_CODE"):
        teacher_code(isolated_home, environ={"FMNIST_TEACHER_CODE": "417"})
    assert len("x" * MIN_TEACHER_CODE_LENGTH) == MIN_TEACHER_CODE_LENGTH


def test_wrong_attempts_wait_longer_and_longer_per_session_and_per_address():
    now = [1000.0]
    limiter = AttemptLimiter(clock=lambda: now[0])
    for _ in range(FREE_WRONG_ATTEMPTS - 1):
        assert limiter.failed("session:a", "address:10.0.0.7") == 0  # typing mistakes are free
    first_wait = limiter.failed("session:a", "address:10.0.0.7")
    assert first_wait == FIRST_DELAY_SECONDS
    assert limiter.wait_seconds("session:b", "address:10.0.0.7") == FIRST_DELAY_SECONDS  # a new tab, same machine
    assert limiter.wait_seconds("session:c", "address:10.0.0.8") == 0  # another student is not slowed down
    now[0] += first_wait
    assert limiter.wait_seconds("session:a") == 0
    assert limiter.failed("session:a") == 2 * FIRST_DELAY_SECONDS  # the Nth wrong code waits twice the last
    assert limiter.failed("session:a") == 4 * FIRST_DELAY_SECONDS
    limiter.succeeded("session:a")
    assert limiter.wait_seconds("session:a") == 0


def test_links_carry_the_public_address_or_the_machines_network_address_never_loopback():
    assert public_base_url("http://localhost:8501/", environ={"FMNIST_PUBLIC_URL": "https://fm.school.example/"},
                           address=lambda: "10.1.2.3") == ("https://fm.school.example", "public")
    assert public_base_url("http://127.0.0.1:8501", environ={}, address=lambda: "10.1.2.3") == \
        ("http://10.1.2.3:8501", "network")
    assert public_base_url("http://[::1]:8501/", environ={}, address=lambda: "10.1.2.3")[1] == "network"
    assert public_base_url("http://192.168.1.20:8501", environ={}, address=lambda: "10.1.2.3") == \
        ("http://192.168.1.20:8501", "browser")
    assert public_base_url("http://localhost:8501", environ={}, address=lambda: None) == \
        ("http://localhost:8501", "loopback")


def test_the_students_address_comes_from_a_trusted_balancer_only():
    """Review of #22: in compose nginx is not on loopback, and every student counted as nginx's one address."""
    from fmnist_core.teacher import client_address

    assert client_address(None, "10.0.0.7", environ={}) == "10.0.0.7"  # nginx on this machine
    assert client_address("172.18.0.5", "10.0.0.7", environ={}) == "172.18.0.5"  # not trusted: the header is ignored
    trusting = {"FMNIST_TRUSTED_PROXIES": "172.18.0.0/16"}
    assert client_address("172.18.0.5", "10.0.0.7", environ=trusting) == "10.0.0.7"
    assert client_address("10.9.9.9", "10.0.0.7", environ=trusting) == "10.9.9.9"  # a student forging the header
    assert client_address(None, None, environ={}) == "local"
