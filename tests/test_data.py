import gzip
import struct

import pytest
import torch

from fmnist_core import data as data_module
from fmnist_core.data import CLASS_NAMES, DatasetError, load_dataset, load_folder, parse_idx


def test_real_dataset_shapes_and_labels(data):
    assert data.train_images.shape == (60_000, 28, 28) and data.train_images.dtype == torch.uint8
    assert data.test_images.shape == (10_000, 28, 28)
    assert data.train_labels.shape == (60_000,) and data.test_labels.shape == (10_000,)
    assert torch.bincount(data.train_labels).tolist() == [6000] * 10
    # Known first test labels of Fashion-MNIST: ankle boot, pullover, trouser, trouser.
    assert data.test_labels[:4].tolist() == [9, 2, 1, 1]


def test_class_names_are_the_data_sets_own():
    assert CLASS_NAMES[0] == "T-shirt/top" and CLASS_NAMES[9] == "Ankle boot" and len(CLASS_NAMES) == 10


def _idx(magic, dims, payload_size=None):
    size = 1
    for dim in dims:
        size *= dim
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims)
    return header + bytes(size if payload_size is None else payload_size)


def test_parse_idx_rejects_wrong_magic_truncation_and_shape():
    with pytest.raises(DatasetError, match="magic number"):
        parse_idx(_idx(2049, (3, 28, 28)), 2051, 3, (28, 28), "x")
    with pytest.raises(DatasetError, match="truncated"):
        parse_idx(_idx(2051, (3, 28, 28), payload_size=100), 2051, 3, (28, 28), "x")
    with pytest.raises(DatasetError, match="shape"):
        parse_idx(_idx(2051, (3, 27, 28)), 2051, 3, (28, 28), "x")
    with pytest.raises(DatasetError, match="too short"):
        parse_idx(b"\x00", 2051, 3, (28, 28), "x")


def test_truncated_gzip_file_gives_clear_error(tmp_path, data):
    source = data_module.DEBIAN_DIR
    for path in source.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    damaged = tmp_path / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:50])
    with pytest.raises(DatasetError, match="t10k-labels"):
        load_folder(tmp_path)


def test_explicit_folder_comes_first(tmp_path, monkeypatch):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(2051, (60_000, 28, 28)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(2049, (60_000,)))
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(_idx(2051, (10_000, 28, 28)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(2049, (10_000,)))
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path))
    loaded = load_dataset()
    assert loaded.source == str(tmp_path)
    assert int(loaded.train_images.sum()) == 0


def test_missing_everywhere_names_all_three_ways(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "DEBIAN_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(data_module, "TORCHVISION_ROOT", tmp_path / "tv")
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(DatasetError) as caught:
        load_dataset(allow_download=False)
    message = str(caught.value)
    assert "FMNIST_DATA_DIR" in message and "dataset-fashion-mnist" in message and "torchvision" in message


@pytest.fixture(autouse=True)
def nothing_read_ahead_outlives_a_test():
    yield
    for thread in data_module._prefetching:
        thread.join()
    data_module._prefetching.clear()
    data_module._prefetched.clear()


def _copy_of_the_data_set(folder):
    for path in data_module.DEBIAN_DIR.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())


def test_files_read_ahead_load_as_the_files_themselves(tmp_path, data):
    _copy_of_the_data_set(tmp_path)
    data_module.prefetch_files(tmp_path)
    for thread in data_module._prefetching:
        thread.join()
    assert sorted(path.name for path in data_module._prefetched) == sorted(
        path.name for path in data_module.DEBIAN_DIR.iterdir())
    loaded = load_folder(tmp_path)
    assert not data_module._prefetched  # each file read ahead was taken once, none held after the load
    assert torch.equal(loaded.train_images, data.train_images) and torch.equal(loaded.test_labels, data.test_labels)


def test_a_file_changed_after_it_was_read_ahead_is_read_again(tmp_path, data):
    _copy_of_the_data_set(tmp_path)
    data_module.prefetch_files(tmp_path)
    for thread in data_module._prefetching:
        thread.join()
    assert len(data_module._prefetched) == 4
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    changed = bytearray(gzip.decompress(labels.read_bytes()))
    changed[8] = (changed[8] + 1) % 10  # the first test image's label
    labels.unlink()  # a new file, as an update of the package writes it
    labels.write_bytes(gzip.compress(bytes(changed)))
    loaded = load_folder(tmp_path)
    assert loaded.test_labels[0] == (data.test_labels[0] + 1) % 10
    assert torch.equal(loaded.test_labels[1:], data.test_labels[1:])


def test_a_damaged_file_read_ahead_is_still_refused_in_the_apps_words(tmp_path, data):
    _copy_of_the_data_set(tmp_path)
    damaged = tmp_path / "train-images-idx3-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:1000])
    data_module.prefetch_files(tmp_path)
    with pytest.raises(DatasetError, match="train-images.*damaged"):
        load_folder(tmp_path)


def test_a_gzip_file_of_several_members_and_zero_padding_loads_whole(tmp_path):
    images = _idx(2051, (60_000, 28, 28))
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(images[:1000]) + bytes(7) + gzip.compress(images[1000:]) + bytes(512))  # as gzip.open reads
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx(2049, (60_000,)))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx(2051, (10_000, 28, 28)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(2049, (10_000,)))
    assert load_folder(tmp_path).train_images.shape == (60_000, 28, 28)


def test_a_training_process_reads_the_files_while_torch_imports():
    """Importing the data module loads neither NumPy nor torch, and a training process's start begins the read."""
    import subprocess
    import sys

    if not all(data_module._find_file(data_module.DEBIAN_DIR, stem) for stem, *_ in data_module.SPLIT_FILES.values()):
        pytest.skip("reads ahead from Debian's folder; this machine has the data set elsewhere")

    probe = ("import sys; import fmnist_core.data as data; before = 'torch' in sys.modules or 'numpy' in sys.modules; "
             "from fmnist_core.process import start_training_process; start_training_process(); "
             "[thread.join() for thread in data._prefetching]; print(before, len(data._prefetched))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "4"]
