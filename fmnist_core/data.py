"""Fashion-MNIST from the real IDX files, loaded once per process into memory. Importing this loads neither
NumPy nor PyTorch: a process that trains starts reading the files (`prefetch_files`) before torch loads."""
from __future__ import annotations

import functools
import os
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import torch

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
TORCHVISION_ROOT = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fmnist-explorer" / "torchvision"

# The data set's own names for labels 0–9; translations live with the app's other texts (fmnist_ui/i18n.py).
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}
IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049

HOW_TO_GET_DATA = (
    "Fashion-MNIST was not found. Any one of these works:\n"
    "  1. put the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
    "t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]) in a folder and set FMNIST_DATA_DIR to it;\n"
    f"  2. on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist (installs them in {DEBIAN_DIR});\n"
    "  3. let torchvision download them: needs internet access on first start "
    f"(cached in {TORCHVISION_ROOT})."
)


class DatasetError(RuntimeError):
    """The data set is missing or its files are not valid Fashion-MNIST."""


@dataclass(frozen=True)
class FashionMNIST:
    """The whole data set as uint8 tensors: images (N, 28, 28), labels (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (folder / name).is_file():
            return folder / name
    return None


def _file_bytes(path: Path) -> bytes:
    return _gunzip(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def _gunzip(raw: bytes) -> bytes:
    """A gzip file's bytes, every member of it. One call per member: zlib lets go of the interpreter's lock while
    it inflates (gzip.open's reader takes it back thousands of times, which slowed the torch import beside it)."""
    members = []
    while raw:
        member = zlib.decompressobj(wbits=31)
        members.append(member.decompress(raw))
        if not member.eof:
            raise zlib.error("incomplete or truncated stream")
        raw = member.unused_data.lstrip(b"\0")  # zeros after a member are padding, as gzip.open reads them
    return members[0] if len(members) == 1 else b"".join(members)


def _identity(path: Path) -> tuple[int, int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns, status.st_ino


# Files read ahead by prefetch_files: path → (its identity when read, its bytes), each taken once.
_prefetched: dict[Path, tuple[tuple[int, int, int], bytes]] = {}
_prefetching: list[threading.Thread] = []


def prefetch_files(data_dir: str | Path | None = None) -> None:
    """Read and decompress the four files of the first candidate folder that has them all, in a thread: where a
    process that trains starts, this runs while PyTorch imports (a second of one core waiting on its libraries)
    instead of after it. What it cannot read is left to the load, which then says why."""
    for folder in candidate_folders(data_dir):
        paths = [_find_file(folder, stem) for image_stem, label_stem, _ in SPLIT_FILES.values()
                 for stem in (image_stem, label_stem)]
        if all(paths):
            break
    else:
        return

    def read_all() -> None:
        for path in paths:
            try:
                _prefetched[path] = (_identity(path), _file_bytes(path))
            except (OSError, zlib.error):
                return

    thread = threading.Thread(target=read_all, name="fmnist-data-prefetch", daemon=True)
    _prefetching.append(thread)
    thread.start()


def _read_bytes(path: Path) -> bytes:
    for thread in _prefetching:
        thread.join()
    try:
        held = _prefetched.pop(path, None)
        if held is not None and held[0] == _identity(path):  # the same file as when it was read ahead
            return held[1]
        return _file_bytes(path)
    except (OSError, zlib.error) as error:
        raise DatasetError(f"{path}: cannot be read ({error}); the file is damaged, reinstall it") from error


def parse_idx(raw: bytes, magic: int, count: int, shape: tuple[int, ...], name: str) -> np.ndarray:
    """Check an IDX file's header against what Fashion-MNIST must be and return its array."""
    import numpy as np
    ndim = 1 + len(shape)
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DatasetError(f"{name}: file is only {len(raw)} bytes, too short for an IDX header")
    found_magic = int.from_bytes(raw[0:4], "big")
    if found_magic != magic:
        raise DatasetError(
            f"{name}: not an IDX file of the expected kind (magic number {found_magic}, expected {magic})"
        )
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if dims != (count, *shape):
        raise DatasetError(f"{name}: holds shape {dims}, expected {(count, *shape)}")
    expected = header_size + int(np.prod(dims))
    if len(raw) != expected:
        raise DatasetError(f"{name}: {len(raw)} bytes, expected {expected}: the file is truncated or padded")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)


def load_folder(folder: Path) -> FashionMNIST:
    """Load and validate the four IDX files from one folder."""
    import numpy as np
    import torch
    arrays = {}
    for split, (image_stem, label_stem, count) in SPLIT_FILES.items():
        image_path = _find_file(folder, image_stem)
        label_path = _find_file(folder, label_stem)
        if image_path is None or label_path is None:
            missing = image_stem if image_path is None else label_stem
            raise FileNotFoundError(f"{folder}: no {missing}[.gz]")
        images = parse_idx(_read_bytes(image_path), IMAGE_MAGIC, count, (28, 28), image_path.name)
        labels = parse_idx(_read_bytes(label_path), LABEL_MAGIC, count, (), label_path.name)
        if labels.max() > 9:
            raise DatasetError(f"{label_path.name}: label {labels.max()} is outside 0-9")
        # copied into memory torch allocates: numpy asks the kernel for huge pages for a large array of its own,
        # and their first touch can stall while the kernel compacts memory to find them (BENCHMARKS.md, #26)
        held = torch.empty(images.shape, dtype=torch.uint8)
        held.numpy()[...] = images
        arrays[split] = (held, torch.from_numpy(labels.astype(np.int64)))
    return FashionMNIST(*arrays["train"], *arrays["test"], source=str(folder))


def _torchvision_folder(download: bool) -> Path:
    from torchvision.datasets import FashionMNIST as TorchvisionFashionMNIST

    for train in (True, False):
        TorchvisionFashionMNIST(root=str(TORCHVISION_ROOT), train=train, download=download)
    return TORCHVISION_ROOT / "FashionMNIST" / "raw"


def candidate_folders(data_dir: str | Path | None = None) -> list[Path]:
    """Explicit folder (argument, then FMNIST_DATA_DIR), then the Debian package's folder."""
    explicit = data_dir or os.environ.get("FMNIST_DATA_DIR")
    folders = [Path(explicit)] if explicit else []
    return folders + [DEBIAN_DIR]


def load_dataset(data_dir: str | Path | None = None, allow_download: bool = True) -> FashionMNIST:
    """Find and load Fashion-MNIST: explicit folder, Debian's folder, then torchvision's download."""
    tried = []
    for folder in candidate_folders(data_dir):
        try:
            return load_folder(folder)
        except FileNotFoundError as error:
            tried.append(str(error))
    if os.environ.get("FMNIST_NO_DOWNLOAD"):
        allow_download = False
    try:
        return load_folder(_torchvision_folder(download=allow_download))
    except DatasetError:
        raise
    except Exception as error:  # torchvision raises many kinds on a failed download
        tried.append(f"torchvision download: {type(error).__name__}: {error}")
    raise DatasetError(HOW_TO_GET_DATA + "\nTried: " + "; ".join(tried))


@functools.lru_cache(maxsize=1)
def get_dataset() -> FashionMNIST:
    """The process-wide data set, loaded on first use."""
    return load_dataset()


def as_input(images_uint8: torch.Tensor, memory_format: torch.memory_format | None = None) -> torch.Tensor:
    """uint8 (N, 28, 28) → float (N, 1, 28, 28) in [0, 1] (in `memory_format`, else contiguous); done per batch
    so data is held once as uint8."""
    import torch

    batch = images_uint8.unsqueeze(1).to(torch.float32).div_(255.0)
    return batch.contiguous(memory_format=memory_format or torch.contiguous_format)
