"""The teacher's door and the guessing of codes: a teacher code that exists from the server's first start (made
here when the administrator sets none, like Jupyter's token), compared in constant time; wrong attempts at any
code slowed down per browser session and per client address; the address students' links and QR codes carry."""
from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from .limits import (
    ATTEMPT_MEMORY_SECONDS,
    FIRST_DELAY_SECONDS,
    FREE_WRONG_ATTEMPTS,
    MAX_DELAY_SECONDS,
    MAX_TEACHER_CODE_TEXT,
    MIN_TEACHER_CODE_LENGTH,
    TEACHER_CODE_BYTES,
)
from .settings import SettingError
from .storage import home_error

CODE_VARIABLE = "FMNIST_TEACHER_CODE"
PUBLIC_URL_VARIABLE = "FMNIST_PUBLIC_URL"
CODE_FILE = "teacher-code"


class TeacherCodeError(SettingError):
    """An administrator's FMNIST_TEACHER_CODE that is too short to stand guessing."""


def teacher_code(home: Path, environ=os.environ) -> str:
    """FMNIST_TEACHER_CODE when set, else the code kept under the home folder, made (random, 22 characters) the
    first time; readable by this user alone. TeacherCodeError for an administrator's code that is too short."""
    given = environ.get(CODE_VARIABLE, "").strip()
    if given:
        if len(given) < MIN_TEACHER_CODE_LENGTH or len(given) > MAX_TEACHER_CODE_TEXT:
            raise TeacherCodeError(f"{CODE_VARIABLE} must have {MIN_TEACHER_CODE_LENGTH} to "
                                   f"{MAX_TEACHER_CODE_TEXT} characters (it is guessed easily otherwise)")
        return given
    path = Path(home) / CODE_FILE
    try:
        return _read_code(path)
    except FileNotFoundError:
        pass
    code = secrets.token_urlsafe(TEACHER_CODE_BYTES)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of this server made it first
        return _read_code(path)
    except OSError as error:
        raise home_error(error, Path(home)) from None
    with os.fdopen(descriptor, "w") as file:
        file.write(code + "\n")
    return code


def _read_code(path: Path) -> str:
    for _ in range(50):  # a file another process has created but not yet written
        code = path.read_text().strip()
        if code:
            return code
        time.sleep(0.02)
    raise TeacherCodeError(f"{path} is empty: delete it and restart the server to make a new teacher code")


def code_matches(given: str | None, expected: str) -> bool:
    """Whether `given` is the teacher code, in time that does not depend on how much of it is right."""
    if not isinstance(given, str) or not given or len(given) > MAX_TEACHER_CODE_TEXT:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def teacher_link(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/?{urlencode({'teacher': code})}"


class AttemptLimiter:
    """Wrong guesses per key (a browser session, a client address): FREE_WRONG_ATTEMPTS are free, then each one
    makes the next wait twice as long (from FIRST_DELAY_SECONDS up to MAX_DELAY_SECONDS). Thread-safe; forgotten
    a day after the last wrong attempt, or at a right one."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._wrong: dict[str, tuple[int, float]] = {}  # key → (wrong attempts, time of the last)

    def wait_seconds(self, *keys: str) -> float:
        """How long the caller must still wait before an attempt under any of `keys` is looked at (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [self._delay(count) - (now - last) for key in keys if key
                     for count, last in [self._wrong.get(key, (0, now))]]
        return max([0.0, *waits])

    def failed(self, *keys: str) -> float:
        """Record a wrong attempt under each of `keys`; the wait before the next is looked at."""
        now = self._clock()
        with self._lock:
            self._forget_old(now)
            for key in keys:
                if key:
                    count, _ = self._wrong.get(key, (0, now))
                    self._wrong[key] = (count + 1, now)
        return self.wait_seconds(*keys)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._wrong.pop(key, None)

    @staticmethod
    def _delay(count: int) -> float:
        if count < FREE_WRONG_ATTEMPTS:
            return 0.0
        return min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** (count - FREE_WRONG_ATTEMPTS))

    def _forget_old(self, now: float) -> None:
        for key in [key for key, (_, last) in self._wrong.items() if now - last > ATTEMPT_MEMORY_SECONDS]:
            del self._wrong[key]


PROXIES_VARIABLE = "FMNIST_TRUSTED_PROXIES"
DEFAULT_PROXIES = "127.0.0.1/32,::1/128"  # a balancer on this machine (deploy/topology.py)


def trusted_proxy(peer: str | None, environ=os.environ) -> bool:
    """Whether the connection comes from a balancer whose X-Real-IP names the student (FMNIST_TRUSTED_PROXIES:
    addresses or networks, comma-separated; by default this machine). Anyone else could write the header."""
    try:
        address = ipaddress.ip_address((peer or "127.0.0.1").strip("[]"))
    except ValueError:
        return False
    for network in (environ.get(PROXIES_VARIABLE) or DEFAULT_PROXIES).split(","):
        try:
            if address in ipaddress.ip_network(network.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address(peer: str | None, forwarded: str | None, environ=os.environ) -> str:
    """The student's address for the guessing limits: the balancer's X-Real-IP when the peer is a trusted
    balancer, else the peer itself ("local" for this machine)."""
    if isinstance(forwarded, str) and forwarded.strip() and trusted_proxy(peer, environ):
        return forwarded.strip()[:64]
    return peer or "local"


def is_loopback(host: str | None) -> bool:
    if not host:
        return True
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def network_address() -> str | None:
    """This machine's address on its network (what Streamlit prints as "Network URL"): the interface a packet to
    an outside address would leave by. No packet is sent. None without a network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.254.254.254", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if is_loopback(address) else address


def public_base_url(browser_url: str | None, environ=os.environ, address=network_address) -> tuple[str, str]:
    """The address students' links and QR codes carry, and where it came from: "public" (FMNIST_PUBLIC_URL),
    "network" (the teacher's browser was on a loopback address: this machine's network address instead, same
    port), "browser" (as the teacher's browser reached the server) or "loopback" (no network address found)."""
    public = environ.get(PUBLIC_URL_VARIABLE, "").strip()
    if public:
        return public.rstrip("/"), "public"
    url = (browser_url or "http://localhost:8501").rstrip("/")
    parts = urlsplit(url)
    if not is_loopback(parts.hostname):
        return url, "browser"
    found = address()
    if not found:
        return url, "loopback"
    netloc = f"{found}:{parts.port}" if parts.port else found
    return urlunsplit((parts.scheme or "http", netloc, parts.path, "", "")).rstrip("/"), "network"
