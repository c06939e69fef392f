import pytest
import torch

from conftest import tiny_cnn_run, tiny_mlp_run
from fmnist_core.settings import SettingError
from fmnist_core.training import fit, pick_device


def test_short_real_cnn_run_clearly_beats_chance(small_data):
    result = fit(tiny_cnn_run(epochs=1, shuffle=True), small_data)
    metrics = result.history[0]
    assert not result.cancelled
    assert metrics.val_acc > 0.60  # chance is 0.10
    assert 0 < metrics.train_loss < 2.3
    assert metrics.images_per_second > 0 and metrics.epoch_seconds > 0


def test_full_data_mlp_epoch_beats_chance(data):
    result = fit(tiny_mlp_run(epochs=1, shuffle=True), data)
    assert result.history[0].val_acc > 0.75


def test_same_seed_gives_same_metrics_on_cpu(small_data, monkeypatch):
    # a fixed thread count: each epoch otherwise takes the cores other processes leave free, and sums split over
    # another number of threads round differently in the last digits (README, "same seed, same figures")
    monkeypatch.setenv("FMNIST_THREADS", "2")
    first = fit(tiny_mlp_run(epochs=2, shuffle=True, seed=3), small_data).history
    second = fit(tiny_mlp_run(epochs=2, shuffle=True, seed=3), small_data).history
    other = fit(tiny_mlp_run(epochs=2, shuffle=True, seed=4), small_data).history
    strip = [(m.train_loss, m.train_acc, m.val_loss, m.val_acc) for m in first]
    assert strip == [(m.train_loss, m.train_acc, m.val_loss, m.val_acc) for m in second]
    assert strip != [(m.train_loss, m.train_acc, m.val_loss, m.val_acc) for m in other]


def test_stop_is_honoured_within_one_batch_and_keeps_finished_epochs(small_data):
    calls = []
    batches_per_epoch = -(-len(small_data.train_images) // 256)

    def should_stop():
        calls.append(1)
        return len(calls) > batches_per_epoch + 3  # stop in the 4th batch of epoch 2

    result = fit(tiny_mlp_run(epochs=3), small_data, should_stop=should_stop)
    assert result.cancelled
    assert [m.epoch for m in result.history] == [1]
    assert len(calls) == batches_per_epoch + 4


def test_onecycle_and_label_smoothing_train(small_data):
    result = fit(tiny_mlp_run(epochs=1, schedule="onecycle", label_smoothing=0.1), small_data)
    assert result.history[0].val_acc > 0.6


def test_device_choice_on_this_machine():
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    expected = "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    assert pick_device("auto").type == expected
    assert pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available():  # asked for by name and missing: an error that says so, not a silent CPU
        with pytest.raises(SettingError, match="no CUDA GPU"):
            pick_device("cuda")


# Allocates and frees three 16 MiB activation-sized buffers 20 times, as every training step does, and
# prints the page faults it took; a fresh process so earlier tests' malloc settings do not count.
_FAULTS_SCRIPT = """
import resource, sys, torch
from fmnist_core.process import keep_freed_memory_for_reuse
if sys.argv[1] == "keep":
    assert keep_freed_memory_for_reuse()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    buffers = [torch.ones(4 << 20) for _ in range(3)]
    del buffers
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(mode: str) -> int:
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT, mode], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    return int(done.stdout.strip())


def test_freed_tensor_memory_is_reused_without_page_faults():
    pages_per_buffer = (16 << 20) // 4096
    # 20 steps of three buffers fault in 60 buffers' worth when nothing is reused. glibc's defaults measured 9 to
    # 44 buffers' worth here, depending on where the heap starts; with the buffers kept, 4 to 10 (seen on
    # 2026-11-26, where the bound of 8 used before failed about one run in three): well under a quarter.
    assert _page_faults("keep") < 15 * pages_per_buffer


def test_a_training_process_imports_torch_without_collecting_garbage_over_and_over():
    """#26: at the interpreter's default threshold, importing torch set off some 400 collections (a tenth of the
    import's time); a training process collects seldom. Counted in a fresh process, as the CLI starts."""
    import subprocess
    import sys
    from pathlib import Path

    script = ("import gc, sys\n"
              "if sys.argv[1] == 'training':\n"
              "    from fmnist_core.process import start_training_process; start_training_process()\n"
              "import torch\n"
              "print(sum(generation['collections'] for generation in gc.get_stats()))")
    counts = {mode: int(subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True,
                                       check=True, cwd=Path(__file__).resolve().parents[1]).stdout)
              for mode in ("plain", "training")}
    assert counts["plain"] > 100 and counts["training"] < counts["plain"] / 10, counts


@pytest.mark.slow
def test_the_overfitting_preset_shows_validation_loss_bottom_out_and_rise(data):
    """#17: on the fast recipe (one-cycle, smoothing) training loss stayed above validation loss; this one overfits
    plainly on the real data set: validation loss turns up while training accuracy keeps climbing."""
    from fmnist_core.metrics import early_stopping
    from fmnist_core.presets import PRESETS

    history = fit(PRESETS["overfitting"], data).history
    lowest = min(history, key=lambda metrics: metrics.val_loss)
    final = history[-1]
    assert lowest.epoch <= 12
    assert final.val_loss >= 1.25 * lowest.val_loss
    assert final.train_acc >= lowest.train_acc + 0.02 and final.train_acc - final.val_acc >= 0.04
    assert final.train_loss < final.val_loss  # no smoothing: the loss chart tells the same story as accuracy
    assert early_stopping(history) is not None


def test_a_containers_cpu_quota_caps_the_threads(tmp_path):
    from fmnist_core.cpu import cpu_quota

    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert cpu_quota(v2) == 1.5
    (v2 / "cpu.max").write_text("max 100000\n")
    assert cpu_quota(v2) is None
    v1 = tmp_path / "v1" / "cpu"
    v1.mkdir(parents=True)
    (v1 / "cpu.cfs_quota_us").write_text("200000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert cpu_quota(tmp_path / "v1") == 2.0
    (v1 / "cpu.cfs_quota_us").write_text("-1\n")
    assert cpu_quota(tmp_path / "v1") is None
    assert cpu_quota(tmp_path / "nothing here") is None


def test_a_process_that_starts_with_every_core_taken_lets_openmp_threads_sleep_while_they_wait():
    import multiprocessing
    import os
    import subprocess
    import sys

    from conftest import ROOT

    # what `python -m fmnist_core` (the CLI, a job's worker) does where it starts
    probe = [sys.executable, "-c", "import os; from fmnist_core.process import start_training_process; "
             "start_training_process(); print(os.environ.get('OMP_WAIT_POLICY'))"]
    busy = [multiprocessing.Process(target=_spin, daemon=True) for _ in os.sched_getaffinity(0)]
    for process in busy:
        process.start()
    try:
        loaded = subprocess.run(probe, cwd=ROOT, capture_output=True, text=True, check=True,
                                env={k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}).stdout.strip()
        chosen = subprocess.run(probe, cwd=ROOT, capture_output=True, text=True, check=True,
                                env=dict(os.environ, OMP_WAIT_POLICY="ACTIVE")).stdout.strip()
    finally:
        for process in busy:
            process.kill()
            process.join()
    assert loaded == "PASSIVE"
    assert chosen == "ACTIVE"  # one set by the administrator wins


def _spin():
    while True:
        pass


def test_the_job_managers_share_caps_threads_and_each_epoch_still_adapts_below_it(monkeypatch):
    import os

    from fmnist_core.cpu import threads_for_load, usable_cpus

    monkeypatch.delenv("FMNIST_THREADS", raising=False)
    monkeypatch.setenv("FMNIST_THREAD_CAP", "1")
    assert usable_cpus() == 1
    monkeypatch.delenv("FMNIST_THREAD_CAP")
    assert 1 <= usable_cpus() <= len(os.sched_getaffinity(0))
    assert threads_for_load(4, 0) == 4 and threads_for_load(4, 1) == 3 and threads_for_load(4, 9) == 1
    assert threads_for_load(4, None) == 4


def test_each_epoch_takes_the_cores_others_leave_unless_waiting_threads_sleep(monkeypatch):
    import multiprocessing
    import os

    from fmnist_core.cpu import adapt_threads

    usable = len(os.sched_getaffinity(0))
    monkeypatch.delenv("FMNIST_THREADS", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    before = torch.get_num_threads()
    busy = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(usable)]
    for process in busy:
        process.start()
    try:
        adapt_threads(usable)
        spinning = torch.get_num_threads()
        monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
        adapt_threads(usable)
        sleeping = torch.get_num_threads()
    finally:
        for process in busy:
            process.kill()
            process.join()
        torch.set_num_threads(before)
    assert spinning == 1  # every core taken: one thread, no barrier waiting on a thread that lost its core
    assert sleeping == usable  # waiting threads sleep: each takes its share


def test_training_flushes_denormal_floats_to_zero_in_every_thread_and_puts_them_back_after():
    """#26: Adam's second moments of gradients near zero underflow into denormal floats, on which every operation
    is many times slower (the batch-32 overfitting preset's Adam: BENCHMARKS.md). Training flushes them to zero,
    in every thread of PyTorch's pool (a product this long is split over all of them), and leaves the process as
    it found it."""
    import torch

    from fmnist_core.cpu import training_threads

    def denormal_products() -> int:
        tiny = torch.full((1 << 20,), 1e-30)  # 1e-30 × 1e-10 = 1e-40: a denormal float, or zero when flushed
        return int(((tiny * 1e-10) != 0).sum())

    assert denormal_products() == 1 << 20
    with training_threads() as threads:
        assert threads >= 1
        assert denormal_products() == 0
    assert denormal_products() == 1 << 20
