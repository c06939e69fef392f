"""#14.9: broken homes (a file, a read-only folder, a full disk) and files under the home that are not ours.
Each gives one plain message that names the problem and the fix; nothing half-written stays."""
import os
import subprocess
import sys

import pytest

from conftest import APP, ROOT, subprocess_env, tiny_mlp_run
from fmnist_core.cache import open_store
from fmnist_core.runs import train_run
from fmnist_core.storage import CheckpointError, HomeError, app_home, checkpoint_path, read_stored_file


def cli(home, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "fmnist_core", *args], env=subprocess_env(home),
                          capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))


@pytest.fixture
def small_disk(tmp_path):
    """A real tmpfs of a given size (root only), unmounted afterwards."""
    mounted = []

    def mount(size: str, *options: str):
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join((f"size={size}", *options)), "tmpfs",
                               str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.mark.slow
def test_a_home_that_is_a_file_is_one_line_in_the_cli_and_a_message_in_the_app(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    home = tmp_path / "home-is-a-file"
    home.write_text("oops")
    with pytest.raises(HomeError) as caught:
        monkeypatch.setenv("FMNIST_HOME", str(home))
        app_home()
    assert caught.value.code == "not_a_folder"
    done = cli(home, "train", "--preset", "seed-keras-mlp", "--epochs", "1")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "is a file, not a folder" in done.stderr
    for lang, words in (("en", "is a file, not a folder"), ("es", "es un archivo, no una carpeta")):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["lang"] = lang
        at.run()
        assert not at.exception and words in at.error[0].value


@pytest.mark.slow
def test_a_read_only_home_says_so(small_disk):
    home = small_disk("1m", "ro")
    done = cli(home, "train", "--preset", "seed-keras-mlp", "--epochs", "1")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "cannot be written" in done.stderr


@pytest.mark.slow
def test_a_full_disk_says_so_leaves_nothing_half_written_and_training_works_once_there_is_room(small_disk):
    home = small_disk("1m")
    done = cli(home, "train", "--preset", "seed-pytorch-cnn", "--epochs", "3")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "is full" in done.stderr
    leftovers = [path.name for path in home.rglob(".tmp-*")]
    assert leftovers == []
    [record] = open_store(home).all()
    assert record.status == "failed" and "is full" in record.error
    subprocess.run(["mount", "-o", "remount,size=64m", str(home)], check=True)
    again = cli(home, "train", "--preset", "seed-pytorch-cnn", "--epochs", "1", "--json")
    assert again.returncode == 0, again.stderr


def test_a_checkpoint_linked_to_a_device_is_refused_without_reading_it(isolated_home, small_data):
    """#14.9: a run folder's file symlinked to /dev/zero was read without end."""
    from fmnist_core.cache import cached_result
    from fmnist_core.runs import load_run_checkpoint

    run = tiny_mlp_run(epochs=1)
    store = open_store(isolated_home)
    train_run(run, store, isolated_home, data=small_data)
    path = checkpoint_path(isolated_home, run.key, 1)
    path.unlink()
    os.symlink("/dev/zero", path)
    with pytest.raises(CheckpointError, match="not a regular file"):
        read_stored_file(path)
    assert cached_result(store, isolated_home, run) is None
    with pytest.raises(CheckpointError):
        load_run_checkpoint(isolated_home, run.key)


def test_a_file_larger_than_anything_the_app_writes_is_refused(tmp_path):
    path = tmp_path / "epoch_001.pt"
    with open(path, "wb") as file:
        file.truncate(200 * 2**20)  # sparse: costs no disk
    with pytest.raises(CheckpointError, match="larger than any file"):
        read_stored_file(path)


def test_a_store_row_with_a_bad_spec_takes_no_page_down(isolated_home, small_data):
    """#14.9: one row whose spec this version cannot read (damaged, or from other limits) crashed every page."""
    import sqlite3

    from conftest import app

    run = tiny_mlp_run(epochs=1)
    store = open_store(isolated_home)
    train_run(run, store, isolated_home, data=small_data)
    store.post(run.key, "someone")
    with sqlite3.connect(store.path) as connection:
        connection.execute("INSERT INTO runs (key, spec_json, summary, model_kind, params, status, created_at) "
                           "VALUES ('0123456789abcdef', '{\"model\": 1}', 'bad', 'cnn', 1, 'done', 1.0)")
        connection.execute("INSERT INTO board_posts (key, owner, posted_at) "
                           "VALUES ('0123456789abcdef', 'someone', 2e9)")
    assert [record.key for record in store.all()] == [run.key]
    assert store.get("0123456789abcdef") is None
    import streamlit as st
    st.cache_resource.clear()
    try:
        for page in ("app_pages/train.py", "app_pages/explore.py", "app_pages/pair.py", "app_pages/compare.py",
                     "app_pages/board.py"):
            at = app()
            at.switch_page(page).run()
            assert not at.exception, page
    finally:
        from fmnist_ui import state
        state.job_manager().shutdown()
        st.cache_resource.clear()
