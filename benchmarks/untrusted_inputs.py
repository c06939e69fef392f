"""Hostile inputs against a checkout of this app, each in a fresh process: what comes out and what it costs.

    .venv/bin/python benchmarks/untrusted_inputs.py                 # this checkout
    .venv/bin/python benchmarks/untrusted_inputs.py --root ../old   # another checkout (a git worktree), to compare

Prints, per input, the outcome (the app's own refusal, or the exception that escaped) and the process's peak
resident memory over a process that only read the input. Run by hand; the numbers go to BENCHMARKS.md."""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CALLS = {
    "model file": ("from fmnist_core.transfer import import_run\n"
                   "from fmnist_core.cache import open_store\n"
                   "from fmnist_core.storage import app_home\n"
                   "import_run(app_home(), open_store(), raw)"),
    "picture": "from fmnist_core.uploads import prepare_upload\nprepare_upload(raw)",
    "spec link": ("from fmnist_ui.share import decode_run\ndecode_run(raw.decode())"),
}


def spec_at_old_limits() -> bytes:
    run = ('{"model":{"conv_channels":[512],"dense":4096,"kernel_size":1,"kind":"cnn","padding":0,"pool":1},'
           '"train":{"batch_size":256,"epochs":8,"label_smoothing":0.0,"lr":0.0001,"optimizer":"adam",'
           '"schedule":"constant","seed":0,"shuffle":false}}')
    import torch

    buffer = io.BytesIO()
    torch.save({"format": "fmnist-explorer-checkpoint/1", "run": run,
                "key": hashlib.sha256(run.encode()).hexdigest()[:16], "epoch": 1, "state_dict": {},
                "history": [[1, 0.5, 0.8, 0.5, 0.8, 1.0, 100.0]]}, buffer)
    return buffer.getvalue()


def zip_bomb(inflated: int) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save({"format": "fmnist-explorer-checkpoint/1"}, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bomb:
        for entry in source.infolist():
            if entry.filename.endswith("data.pkl"):
                info = zipfile.ZipInfo(entry.filename)
                info.compress_type = zipfile.ZIP_DEFLATED
                with bomb.open(info, "w", force_zip64=True) as sink:
                    for _ in range(inflated // 2**20):
                        sink.write(bytes(2**20))
            else:
                bomb.writestr(entry, source.read(entry.filename))
    return out.getvalue()


def png(width: int, height: int, bit_depth: int, colour_type: int, rows: bool) -> bytes:
    """A PNG of zeros; with `rows`, all of its rows are there (a real, decodable picture)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    channels = {0: 1, 2: 3, 6: 4}[colour_type]
    row = bytes(1 + width * channels * bit_depth // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height if rows else 4)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def gif_declaring(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("P", (40, 30)).save(buffer, "GIF")
    raw = bytearray(buffer.getvalue())
    raw[6:10] = struct.pack("<HH", width, height)
    descriptor = raw.index(b",", 13)
    raw[descriptor + 5:descriptor + 9] = struct.pack("<HH", width, height)
    return bytes(raw)


def link(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=")


INPUTS = {
    "model file: spec at the old limits, no weights (2 KB)": ("model file", spec_at_old_limits),
    "model file: zip bomb, 1 GiB of zeros deflated": ("model file", lambda: zip_bomb(2**30)),
    "picture: 16-bit RGBA PNG 6300×6300": ("picture", lambda: png(6300, 6300, 16, 6, rows=True)),
    "picture: GIF declaring 65535×65535": ("picture", lambda: gif_declaring(65535, 65535)),
    "link: kernel size 1e400": ("spec link", lambda: link(
        '{"model":{"kind":"cnn","conv_channels":[32],"kernel_size":1e400,"dense":128},"train":{}}')),
    "link: 50,000 nested lists": ("spec link", lambda: link("[" * 50_000 + "]" * 50_000)),
    "link: shuffle \"yes\"": ("spec link", lambda: link(
        '{"model":{"kind":"mlp","hidden":[64]},"train":{"shuffle":"yes"}}')),
}


def attempt(root: Path, call: str, path: Path, home: Path) -> tuple[str, float]:
    """(outcome, peak MiB) of `call` on the bytes at `path`, in a fresh process importing `root`'s code."""
    script = (f"import resource, sys, json\nsys.path.insert(0, {str(root)!r})\nraw = open({str(path)!r}, 'rb').read()\n"
              f"outcome = 'accepted'\ntry:\n" + "".join(f"    {line}\n" for line in call.splitlines())
              + "except Exception as error:\n"
                "    code = getattr(error, 'code', '')\n"
                "    outcome = f'{type(error).__name__}{(\" \" + code) if code else \"\"}: {str(error)[:90]}'\n"
                "print(json.dumps([outcome, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          env={"FMNIST_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home)})
    if done.returncode != 0:
        return f"process died: {done.stderr.strip().splitlines()[-1][:100] if done.stderr else done.returncode}", 0.0
    outcome, peak = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose code is attacked")
    args = parser.parse_args()
    root = args.root.resolve()
    print(f"code under test: {root}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name, (kind, make) in INPUTS.items():
            path = folder / "input"
            path.write_bytes(make())
            home = folder / "home"
            home.mkdir(exist_ok=True)
            imports = "\n".join(CALLS[kind].splitlines()[:-1]) or "pass"  # the same modules, not called
            _, baseline = attempt(root, imports, path, home)
            outcome, peak = attempt(root, CALLS[kind], path, home)
            print(f"- {name} ({path.stat().st_size / 1e6:.2f} MB): {outcome} | peak +{peak - baseline:.0f} MiB "
                  "over reading it", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
