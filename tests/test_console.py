"""What the command-line tools share must leave the process as it found it (issue #25)."""
import os
import signal
import subprocess
import sys
import textwrap

from conftest import ROOT
from fmnist_core.console import StopOnSignal


def test_stop_on_signal_hears_sigterm_inside_its_block_and_restores_the_handlers_after():
    before = {number: signal.getsignal(number) for number in StopOnSignal.SIGNALS}
    with StopOnSignal() as stop:
        assert not stop()
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop() and stop.received == [signal.SIGTERM]
    assert {number: signal.getsignal(number) for number in StopOnSignal.SIGNALS} == before


def test_stop_on_signal_restores_the_handlers_when_its_block_fails():
    before = signal.getsignal(signal.SIGTERM)
    try:
        with StopOnSignal():
            raise RuntimeError("training failed")
    except RuntimeError:
        pass
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_child_started_after_a_command_ran_in_process_still_ends_on_terminate(capsys):
    """The hang of the quick suite: precompute in-process, then a child that must end on terminate()."""
    from fmnist_core.precompute import run_precompute

    assert run_precompute(runs=[]) == 0
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.05)"])
    child.terminate()
    try:
        assert child.wait(timeout=10) == -signal.SIGTERM
    finally:
        child.kill()
        child.wait()


IMPORT_EVERYTHING = textwrap.dedent("""
    import importlib, json, os, pkgutil, sys
    root = sys.argv[1]
    outside = []
    stdlib = os.path.dirname(os.__file__)
    def opened_by_the_core():
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename.startswith((stdlib, "<")):
            frame = frame.f_back  # open() inside the standard library: whoever called it
        return frame is not None and frame.f_code.co_filename.startswith(os.path.join(root, "fmnist_core"))
    def watch(event, args):
        if event == "open" and isinstance(args[0], str) and opened_by_the_core():
            path = os.path.realpath(args[0])
            if not path.startswith((root, sys.prefix, sys.base_prefix)):  # imports are no reads of the host
                outside.append(path)
    environ = dict(os.environ)
    sys.addaudithook(watch)
    import fmnist_core
    names = [info.name for info in pkgutil.walk_packages(fmnist_core.__path__, "fmnist_core.")
             if not info.name.endswith(("__main__", "ray_cluster"))]
    for name in names:
        importlib.import_module(name)
    changed = sorted(set(os.environ.items()) ^ set(environ.items()))
    print(json.dumps({"modules": len(names), "outside": sorted(set(outside)), "environ": changed}))
""")


def test_importing_any_core_module_reads_nothing_outside_and_changes_no_variable():
    """Importing the core used to read the host's load (/proc/loadavg) and set OMP_WAIT_POLICY in every process
    that imported it, the web server included."""
    import json

    environment = {name: value for name, value in os.environ.items() if name != "OMP_WAIT_POLICY"}
    result = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING, str(ROOT)], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["modules"] > 20
    assert report["outside"] == []
    assert report["environ"] == []


_ENDING_SCRIPT = textwrap.dedent("""
    import atexit, sys, threading, time
    from fmnist_core.console import end_process

    class Noisy:
        def __del__(self):
            print("torn down", flush=True)

    kept = Noisy()  # a module global: only the interpreter's teardown deletes it
    atexit.register(print, "exit handler ran")
    if sys.argv[1] == "thread":
        threading.Thread(target=lambda: (time.sleep(0.3), print("thread finished"))).start()
    sys.stdout.write("buffered, not flushed")
    end_process(int(sys.argv[2]))
""")


def _end(mode: str, code: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _ENDING_SCRIPT, mode, str(code)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_a_command_ends_without_tearing_down_the_interpreter_yet_runs_exit_handlers_and_flushes():
    # a short command spent a sizeable part of its wall time tearing down torch's modules (#26)
    done = _end("alone", 3)
    assert done.returncode == 3
    assert done.stdout == "buffered, not flushedexit handler ran\n"
    assert done.stderr == ""


def test_a_command_with_a_thread_still_running_ends_the_ordinary_way():
    done = _end("thread", 4)
    assert done.returncode == 4
    assert done.stdout.splitlines() == ["buffered, not flushedthread finished", "exit handler ran", "torn down"]


def test_a_command_started_with_its_output_closed_still_ends_with_its_own_status():
    """Review of #26's exit: with descriptor 1 or 2 closed, Python sets sys.stdout or sys.stderr to None, and
    flushing it turned a finished command's status 0 into 1."""
    script = "from fmnist_core.console import end_process\nend_process(0)"
    for descriptor in (1, 2):
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=60,
                              preexec_fn=lambda descriptor=descriptor: os.close(descriptor))
        assert done.returncode == 0, descriptor
