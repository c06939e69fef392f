"""The trainer's own Adam, SGD and one-cycle schedule against torch.optim, step by step."""
import os
import subprocess
import sys

import pytest
import torch
from torch import nn

from conftest import ROOT
from fmnist_core import optimizers
from fmnist_core.optimizers import Optimizer, one_cycle


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 26 * 26, 10))


def _batches(count: int):
    generator = torch.Generator().manual_seed(1)
    return [(torch.rand(16, 1, 28, 28, generator=generator), torch.randint(0, 10, (16,), generator=generator))
            for _ in range(count)]


def _train_with_ours(model, kind, settings, batches, optimizer=None, first_step=0):
    optimizer = optimizer or Optimizer(model.parameters(), kind)
    for images, labels in batches[first_step:]:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step(settings(optimizer.steps_taken))
    return optimizer


def _train_with_torch(model, optimizer, scheduler, batches):
    for images, labels in batches:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()


@pytest.mark.parametrize("total_steps", [8, 37, 470])
def test_one_cycle_is_torchs_schedule_to_the_last_bit(total_steps):
    parameter = nn.Parameter(torch.zeros(1))
    reference = torch.optim.Adam([parameter], lr=4e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=4e-3, total_steps=total_steps,
                                                   pct_start=0.25, anneal_strategy="linear")
    for step in range(total_steps):
        group = reference.param_groups[0]
        assert one_cycle(step, total_steps, 4e-3) == optimizers.StepSettings(group["lr"], group["betas"][0])
        parameter.grad = torch.ones(1)
        reference.step()
        schedule.step()


def test_fused_adam_with_one_cycle_gives_torchs_weights_exactly():
    batches = _batches(12)
    ours, theirs = _model(), _model()
    _train_with_ours(ours, "adam", lambda step: one_cycle(step, 12, 5e-3), batches)
    optimizer = torch.optim.Adam(theirs.parameters(), lr=5e-3, fused=True)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=12, pct_start=0.25,
                                                    anneal_strategy="linear")
    _train_with_torch(theirs, optimizer, scheduler, batches)
    for mine, reference in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(mine, reference)


@pytest.mark.parametrize(("kind", "reference"), [
    ("adam", lambda params: torch.optim.Adam(params, lr=1e-3, fused=True)),
    ("sgd", lambda params: torch.optim.SGD(params, lr=1e-3)),
])
def test_constant_rate_gives_torchs_weights_exactly(kind, reference):
    batches = _batches(6)
    ours, theirs = _model(), _model()
    _train_with_ours(ours, kind, lambda step: optimizers.constant(1e-3), batches)
    _train_with_torch(theirs, reference(theirs.parameters()), None, batches)
    for mine, expected in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(mine, expected)


def test_foreach_adam_for_devices_without_the_fused_kernel_matches_torch():
    batches = _batches(8)
    ours, theirs = _model(), _model()
    optimizer = Optimizer(ours.parameters(), "adam")
    optimizer.fused = False  # what Apple MPS gets
    _train_with_ours(ours, "adam", lambda step: one_cycle(step, 8, 3e-3), batches, optimizer)
    reference = torch.optim.Adam(theirs.parameters(), lr=3e-3, foreach=True)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=3e-3, total_steps=8, pct_start=0.25,
                                                    anneal_strategy="linear")
    _train_with_torch(theirs, reference, scheduler, batches)
    for mine, expected in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.allclose(mine, expected, rtol=1e-5, atol=1e-7)


def test_state_round_trip_resumes_exactly():
    batches = _batches(10)
    settings = lambda step: one_cycle(step, 10, 4e-3)  # noqa: E731
    straight = _model()
    _train_with_ours(straight, "adam", settings, batches)

    first = _model()
    saved = _train_with_ours(first, "adam", settings, batches[:5]).state_dict()
    saved = {name: [t.clone() for t in value] if isinstance(value, list) else value for name, value in saved.items()}
    second = _model()
    second.load_state_dict(first.state_dict())
    resumed = Optimizer(second.parameters(), "adam")
    resumed.load_state_dict(saved)
    assert resumed.steps_taken == 5
    _train_with_ours(second, "adam", settings, batches, resumed, first_step=5)
    for mine, expected in zip(second.parameters(), straight.parameters(), strict=True):
        assert torch.equal(mine, expected)
    with pytest.raises(ValueError, match="not 'sgd'"):
        Optimizer(second.parameters(), "sgd").load_state_dict(saved)


@pytest.mark.slow
def test_a_training_process_never_imports_torch_dynamo():
    # torch.optim would import it on first use: about 2 s of every training job's start.
    script = (
        "import sys\n"
        "from conftest import tiny_cnn_run\n"
        "from fmnist_core.data import get_dataset, FashionMNIST\n"
        "from fmnist_core.training import fit\n"
        "data = get_dataset()\n"
        "small = FashionMNIST(data.train_images[:512], data.train_labels[:512], data.test_images[:256],\n"
        "                     data.test_labels[:256], data.source)\n"
        "fit(tiny_cnn_run(epochs=1, schedule='onecycle'), small)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
