"""Command line: `python -m fmnist_core train|bench|worker ...`."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from .backends import train_on_backend
from .cache import cached_result, open_store
from .console import StopOnSignal, cluster_backend, progress_line
from .kinds import MODEL_KINDS, kind_named
from .metrics import EpochMetrics
from .presets import DEFAULT_PRESET, PRESETS, get_preset
from .runstore import RunStoreError
from .settings import SettingError, check_environment
from .specs import DEVICES, OPTIMIZERS, RunSpec, SpecError, validate
from .storage import HomeError, app_home, check_run_key


class UsageError(Exception):
    pass


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad input as one line on stderr and exit status 2."""

    def error(self, message):
        raise UsageError(message)


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
    return values


def model_flags():
    """Every model kind's flags, each once (two kinds may share one)."""
    flags = {}
    for kind in MODEL_KINDS.values():
        for flag in kind.flags:
            flags.setdefault(flag.field, flag)
    return flags.values()


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m fmnist_core", description="Fashion-MNIST CNN explorer core")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    train = commands.add_parser("train", help="train a run (or answer it from the cache)")
    train.add_argument("--preset", choices=sorted(PRESETS), help=f"start from a preset (default {DEFAULT_PRESET})")
    train.add_argument("--model", choices=tuple(MODEL_KINDS))
    for flag in model_flags():
        train.add_argument("--" + flag.field.replace("_", "-"), type=_int_list if flag.whole_numbers else int,
                           help=flag.help or None)
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--optimizer", choices=OPTIMIZERS)
    train.add_argument("--lr", type=float)
    train.add_argument("--seed", type=int)
    train.add_argument("--device", choices=DEVICES, default="auto")
    train.add_argument("--no-cache", action="store_true", help="train even when a finished run exists")
    train.add_argument("--json", action="store_true", help="one JSON object per epoch, then a summary")
    bench = commands.add_parser("bench", help="time the notebook-style loop against this trainer")
    bench.add_argument("--quick", action="store_true", help="fewer batches per measurement")
    precompute = commands.add_parser("precompute", help="train the exercise grid ahead of class (resumable)")
    precompute.add_argument("--recipe", choices=sorted(PRESETS), default=DEFAULT_PRESET)
    link = commands.add_parser("teacher-link", help="print the teacher's link (the code is made at the first start)")
    link.add_argument("--port", type=int, default=8501, help="the app's port, for the link's address")
    worker = commands.add_parser("worker", help="(internal) train one queued run of the app's job manager")
    worker.add_argument("--run-id", required=True)
    worker.add_argument("--resume", action="store_true", help="go on from the run's last saved epoch")
    return parser


def run_from_args(args: argparse.Namespace) -> RunSpec:
    """The preset (or default), with every explicit flag overriding it."""
    base = get_preset(args.preset or DEFAULT_PRESET)
    model = base.model
    kind = args.model or model.kind
    model_kind = kind_named(kind)
    if not isinstance(model, model_kind.spec):  # --model names another kind than the preset's: its defaults
        model = model_kind.spec()
    model = dataclasses.replace(model, **{flag.field: getattr(args, flag.field) for flag in model_kind.flags
                                          if getattr(args, flag.field, None) is not None})
    train_changes = {name: getattr(args, name) for name in ("epochs", "batch_size", "optimizer", "lr", "seed")
                     if getattr(args, name) is not None}
    run = RunSpec(model, dataclasses.replace(base.train, device=args.device, **train_changes))
    validate(run)
    return run


def command_train(args: argparse.Namespace) -> int:
    with StopOnSignal() as stop_requested:
        return _train(args, stop_requested)


def _train(args: argparse.Namespace, stop_requested: StopOnSignal) -> int:
    run = run_from_args(args)
    home = app_home()
    store = open_store(home)
    started = time.perf_counter()

    def on_epoch(metrics: EpochMetrics) -> None:
        stop_requested.say(json.dumps(metrics.to_dict()) if args.json else progress_line(metrics, run.train.epochs))

    record = None if args.no_cache else cached_result(store, home, run)
    cached, joined = record is not None, False
    if not cached:
        # Only training needs torch (a slow import): the cached answer above does not load it.
        from .data import DatasetError
        from .runs import RunInProgress, follow, train_run

        backend = cluster_backend(home, store)
        try:
            # The cache is asked again just before the claim: another command may have finished this spec while
            # torch imported here (and the cluster answered), and it must not be trained twice.
            if backend is not None:
                record = None if args.no_cache else cached_result(store, home, run)
                cached = record is not None
                if not cached:
                    [record] = train_on_backend(backend, [run], store, home,
                                                on_epoch=lambda _, metrics: on_epoch(metrics),
                                                should_stop=stop_requested, owner="cli")
            else:
                result = train_run(run, store, home, use_cache=not args.no_cache, on_epoch=on_epoch,
                                   should_stop=stop_requested)
                record, cached = result.record, result.cached
        except DatasetError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        except RunInProgress:  # another command or app process trains this spec right now: follow it
            joined = True
            record = follow(store, run.key, on_epoch, should_stop=stop_requested) or store.get(run.key)
        stop_requested.record_interrupted(store, run.key)
        record = store.get(run.key) or record
    if cached:
        for metrics in record.history:
            on_epoch(metrics)
    if args.json:
        stop_requested.say(json.dumps({
            "done": True, "cached": cached, "joined": joined, "run_id": record.key, "status": record.status,
            "params": record.params, "device": record.device, "spec": run.to_dict(),
            "backend": record.backend or "local", "node": record.node,
            "seconds": round(time.perf_counter() - started, 3),
        }))
    else:
        final = record.final
        stop_requested.say(f"{'cached' if cached else record.status}: {record.summary} · run {record.key} · "
                           f"{record.params:,} parameters · device {record.device}")
        if final:
            stop_requested.say(f"final validation accuracy {final.val_acc:.2%} after {final.epoch} epochs, "
                               f"{record.total_seconds:.1f} s of training")
    if stop_requested():
        return 130
    return 0 if record.status in ("done", "cancelled") else 1


def command_teacher_link(args: argparse.Namespace) -> int:
    """The teacher's link, for the person who starts the server (as Jupyter prints its token)."""
    from .teacher import public_base_url, teacher_code, teacher_link

    base, source = public_base_url(f"http://localhost:{args.port}")
    print(f"Teacher link (open it on the teacher's computer, keep it off the projector): "
          f"{teacher_link(base, teacher_code(app_home()))}")
    if source == "loopback":
        print("note: this machine has no network address; set FMNIST_PUBLIC_URL to the address students reach")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        check_environment()  # a wrong FMNIST_* setting is one line before any work starts
        if args.command == "teacher-link":
            return command_teacher_link(args)
        if args.command == "train":
            return command_train(args)
        if args.command == "bench":
            from .bench import run_bench
            return run_bench(quick=args.quick)
        if args.command == "precompute":
            from .precompute import run_precompute
            return run_precompute(args.recipe)
        if args.command == "worker":
            from .jobs import run_worker
            try:
                check_run_key(args.run_id)
            except ValueError as error:
                raise UsageError(str(error)) from None
            return run_worker(args.run_id, resume=args.resume)
    except (UsageError, SpecError, KeyError, HomeError, RunStoreError, SettingError) as error:
        message = error.args[0] if error.args else str(error)
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 2
