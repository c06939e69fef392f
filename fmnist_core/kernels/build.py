"""Build and load the small C kernels in c/, once per machine, with the C compiler already there.

Compiled on the machine that runs them (`-march=native`), cached by source, flags and CPU, and never
required: where no compiler works, `load_library` returns None, says why in `why_not`, and the trainer
uses PyTorch's own operators.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE_DIR = Path(__file__).parent / "c"
# Tried in order: the first set the compiler accepts wins. OpenMP shares PyTorch's own runtime (same
# libgomp soname), so the kernels' threads do not compete with PyTorch's for the cores. No math errno: no
# kernel reads errno, and keeping it stops sqrtf from being vectorized.
FLAG_SETS = (
    ("-O3", "-march=native", "-fopenmp", "-fno-math-errno"),
    ("-O3", "-fopenmp", "-fno-math-errno"),
    ("-O3", "-fno-math-errno"),
)
_loaded: dict[str, ctypes.CDLL | None] = {}
why_not: dict[str, str] = {}


def enabled() -> bool:
    """FMNIST_NATIVE=0 turns the kernels off (the bench uses it to measure what they give)."""
    return os.environ.get("FMNIST_NATIVE", "1") != "0"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fmnist-explorer" / "native"


def _cpu_identity() -> str:
    """What -march=native depends on: a library built for one CPU may not run on another."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    wanted = [line for line in lines if line.startswith(("model name", "flags", "Features", "CPU part"))]
    return platform.machine() + "\n" + "\n".join(sorted(set(wanted)))


def _compiler() -> str | None:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


def _build(name: str, compiler: str, defines: tuple[str, ...] = ()) -> Path:
    """The library built from `name`.c; `defines` (-DNAME) build a variant of it, as the tests do to check the
    code paths this CPU would not take."""
    source = SOURCE_DIR / f"{name}.c"
    # the shared header is part of what is built: a change there must rebuild every library
    text = source.read_bytes() + b"".join(header.read_bytes() for header in sorted(SOURCE_DIR.glob("*.h")))
    errors = []
    for flags in (flag_set + defines for flag_set in FLAG_SETS):
        digest = hashlib.sha256(text + repr(flags).encode() + _cpu_identity().encode()).hexdigest()[:16]
        target = cache_dir() / f"{name}-{digest}.so"
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        # Build beside the target and rename: two workers building at once both end with a whole file.
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            built = Path(scratch) / target.name
            command = [compiler, *flags, "-shared", "-fPIC", str(source), "-o", str(built)]
            result = subprocess.run(command, capture_output=True, text=True, timeout=120)
            if result.returncode == 0:
                os.replace(built, target)
                return target
            errors.append(f"{' '.join(flags)}: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
    raise RuntimeError("; ".join(errors))


def load_library(name: str, even_when_off: bool = False) -> ctypes.CDLL | None:
    """The compiled kernel library `name` (source `name`.c here), or None with the reason in `why_not`; a library
    loaded `even_when_off` ignores FMNIST_NATIVE=0."""
    if not enabled() and not even_when_off:
        why_not[name] = "turned off by FMNIST_NATIVE=0"
        return None
    if name in _loaded:
        return _loaded[name]
    library = None
    compiler = _compiler()
    if compiler is None:
        why_not[name] = "no C compiler found (cc, gcc or clang)"
    else:
        try:
            library = ctypes.CDLL(str(_build(name, compiler)))
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            why_not[name] = f"could not build {name}.c: {error}"
    _loaded[name] = library
    return library
