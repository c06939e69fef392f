import pickle

import pytest
import torch

from conftest import tiny_cnn_run
from fmnist_core.checkpoints import load_checkpoint, save_checkpoint
from fmnist_core.models import build_model
from fmnist_core.storage import CheckpointError, app_home, check_run_key, checkpoint_path, file_digest, saved_epochs
from fmnist_core.training import as_input


def _saved(home, data):
    run = tiny_cnn_run()
    torch.manual_seed(0)
    model = build_model(run.model)
    path = checkpoint_path(home, run.key, 1)
    digest = save_checkpoint(path, run, 1, model)
    assert digest == file_digest(path) and len(digest) == 64
    return run, model, path


def test_home_follows_env(isolated_home):
    assert app_home() == isolated_home


def test_round_trip_gives_same_logits(isolated_home, data):
    run, model, path = _saved(isolated_home, data)
    loaded = load_checkpoint(path, expected_key=run.key)
    images = as_input(data.test_images[:5])
    model.module.eval()
    with torch.no_grad():
        assert torch.equal(model.module(images), loaded.model.module(images))
    assert loaded.run == run and loaded.epoch == 1
    assert saved_epochs(isolated_home, run.key) == [1]
    assert not list(path.parent.glob(".tmp-*"))  # atomic write leaves no temp file


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_checkpoint_is_detected(isolated_home, data, damage):
    _, _, path = _saved(isolated_home, data)
    content = path.read_bytes()
    path.write_bytes({"truncate": content[: len(content) // 2], "garbage": b"not a checkpoint" * 100,
                      "empty": b""}[damage])
    with pytest.raises(CheckpointError):
        load_checkpoint(path)


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_crafted_pickle_is_refused(isolated_home, data, capsys):
    _, _, path = _saved(isolated_home, data)
    with open(path, "wb") as handle:
        pickle.dump({"format": "x", "evil": Payload()}, handle)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    torch.save({"format": "x", "evil": Payload()}, path)
    with pytest.raises(CheckpointError, match="unsafe"):
        load_checkpoint(path)
    assert "must never run" not in capsys.readouterr().out


def test_checkpoint_of_another_run_is_refused(isolated_home, data):
    run, _, path = _saved(isolated_home, data)
    with pytest.raises(CheckpointError, match="another run"):
        load_checkpoint(path, expected_key="0" * 16)


@pytest.mark.parametrize("key", ["../etc/passwd", "ABCDEF0123456789", "123", ""])
def test_run_keys_cannot_name_paths(key):
    with pytest.raises(ValueError):
        check_run_key(key)
