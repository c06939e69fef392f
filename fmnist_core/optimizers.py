"""Adam, plain SGD and the one-cycle schedule, without torch.optim.

torch.optim imports torch._dynamo the first time an optimizer is built: 2.2 s of every training process's
start on this machine, longer than an MLP epoch. These run the same kernels (PyTorch's fused Adam on CPU
and CUDA) with the same arithmetic as torch.optim.Adam(fused=True) and OneCycleLR(pct_start=0.25,
anneal_strategy="linear"), which cycles Adam's beta1 between 0.95 and 0.85; a test checks they agree.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .entry_points import entry_point_check, trusted

# OneCycleLR's defaults, which the presets were tuned with.
ONE_CYCLE_PCT_START = 0.25
ONE_CYCLE_DIV = 25.0
ONE_CYCLE_FINAL_DIV = 1e4
ONE_CYCLE_MOMENTUM = (0.85, 0.95)  # beta1 at the peak learning rate, at both ends
ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8


@dataclass(frozen=True)
class StepSettings:
    lr: float
    beta1: float


def constant(max_lr: float) -> StepSettings:
    return StepSettings(max_lr, ADAM_BETA1)


def one_cycle(step: int, total_steps: int, max_lr: float) -> StepSettings:
    """Learning rate and beta1 for optimizer step `step` (0-based): a linear rise over the first quarter
    from max_lr/25 to max_lr (beta1 0.95 → 0.85), then a linear fall to max_lr/250,000 (beta1 back to 0.95).
    The same float operations in the same order as torch's OneCycleLR."""
    initial = max_lr / ONE_CYCLE_DIV
    low_momentum, high_momentum = ONE_CYCLE_MOMENTUM
    rise_end = float(ONE_CYCLE_PCT_START * total_steps) - 1
    if step <= rise_end:
        pct = (step - 0.0) / (rise_end - 0.0)
        return StepSettings(_linear(initial, max_lr, pct), _linear(high_momentum, low_momentum, pct))
    pct = (step - rise_end) / (float(total_steps - 1) - rise_end)
    return StepSettings(_linear(max_lr, initial / ONE_CYCLE_FINAL_DIV, pct),
                        _linear(low_momentum, high_momentum, pct))


def _linear(start: float, end: float, pct: float) -> float:
    return (end - start) * pct + start


class Optimizer:
    """Updates `params` in place from their `.grad`; `state_dict` and `load_state_dict` carry what a
    resumed run needs to go on exactly."""

    def __init__(self, params, kind: str):
        if kind not in ("adam", "sgd"):
            raise ValueError(f"unknown optimizer {kind!r}")
        self.kind = kind
        self.params = [param for param in params if param.requires_grad]
        self.steps_taken = 0
        if kind == "adam":
            self.exp_avgs = [torch.zeros_like(param) for param in self.params]
            self.exp_avg_sqs = [torch.zeros_like(param) for param in self.params]
            # The fused kernel counts steps in tensors of its own, one per parameter.
            self.step_counts = [torch.zeros((), dtype=torch.float32, device=param.device) for param in self.params]
            self.fused = (all(param.device.type in ("cpu", "cuda") for param in self.params)
                          and trusted("fused_adam"))

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self, settings: StepSettings) -> None:
        grads = [param.grad for param in self.params]
        if any(grad is None for grad in grads):
            raise RuntimeError("every trained parameter needs a gradient before the optimizer step")
        if self.kind == "sgd":
            self.steps_taken += 1
            torch._foreach_add_(self.params, grads, alpha=-settings.lr)
            return
        self.count_adam_step()
        if self.fused:
            torch._fused_adam_(self.params, grads, self.exp_avgs, self.exp_avg_sqs, [], self.step_counts,
                               lr=settings.lr, beta1=settings.beta1, beta2=ADAM_BETA2, weight_decay=0.0,
                               eps=ADAM_EPS, amsgrad=False, maximize=False)
        else:
            self._foreach_adam(grads, settings)

    def count_adam_step(self) -> None:
        """One more Adam step: by `step`, or by a kernel that applied it itself (kernels.mlp.DenseStepRunner)."""
        self.steps_taken += 1
        torch._foreach_add_(self.step_counts, 1)

    def adam_moments(self, params) -> tuple[list[torch.Tensor], list[torch.Tensor]] | None:
        """The first and second moments of `params` (in that order), for a kernel that runs this Adam itself;
        None when this is not a fused Adam over exactly those parameters."""
        if self.kind != "adam" or not self.fused:
            return None
        position = {id(param): index for index, param in enumerate(self.params)}
        if len(position) != len(params) or any(id(param) not in position for param in params):
            return None
        order = [position[id(param)] for param in params]
        return [self.exp_avgs[index] for index in order], [self.exp_avg_sqs[index] for index in order]

    def _foreach_adam(self, grads, settings: StepSettings) -> None:
        """Adam by the book with foreach operators, for devices without the fused kernel (Apple MPS)."""
        beta1 = settings.beta1
        torch._foreach_lerp_(self.exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(self.exp_avg_sqs, ADAM_BETA2)
        torch._foreach_addcmul_(self.exp_avg_sqs, grads, grads, 1 - ADAM_BETA2)
        step = self.steps_taken
        bias_correction2_root = math.sqrt(1 - ADAM_BETA2 ** step)
        denominators = torch._foreach_sqrt(self.exp_avg_sqs)
        torch._foreach_div_(denominators, bias_correction2_root)
        torch._foreach_add_(denominators, ADAM_EPS)
        torch._foreach_addcdiv_(self.params, self.exp_avgs, denominators, -settings.lr / (1 - beta1 ** step))

    def state_dict(self) -> dict:
        state = {"kind": self.kind, "steps_taken": self.steps_taken}
        if self.kind == "adam":
            state |= {"exp_avgs": list(self.exp_avgs), "exp_avg_sqs": list(self.exp_avg_sqs)}
        return state

    def load_state_dict(self, state: dict) -> None:
        if state.get("kind") != self.kind:
            raise ValueError(f"optimizer state is for {state.get('kind')!r}, not {self.kind!r}")
        self.steps_taken = int(state["steps_taken"])
        if self.kind == "adam":
            for mine, saved in zip(self.exp_avgs + self.exp_avg_sqs, state["exp_avgs"] + state["exp_avg_sqs"],
                                   strict=True):
                mine.copy_(saved)
            for count in self.step_counts:
                count.fill_(self.steps_taken)


@entry_point_check("fused_adam")
def _fused_adam_agrees() -> bool:
    """Two steps of `torch._fused_adam_` on small tensors against Adam written out with public tensor operations
    (torch.optim.Adam's arithmetic: bias-corrected moments, eps outside the square root)."""
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(6, generator=generator)
    gradients = [torch.randn(6, generator=generator) for _ in range(2)]
    lr = 0.01
    fused, exp_avg, exp_avg_sq, step = start.clone(), torch.zeros(6), torch.zeros(6), torch.zeros(())
    reference, moment, second = start.clone(), torch.zeros(6), torch.zeros(6)
    for count, gradient in enumerate(gradients, start=1):
        step += 1
        torch._fused_adam_([fused], [gradient], [exp_avg], [exp_avg_sq], [], [step], lr=lr, beta1=ADAM_BETA1,
                           beta2=ADAM_BETA2, weight_decay=0.0, eps=ADAM_EPS, amsgrad=False, maximize=False)
        moment = ADAM_BETA1 * moment + (1 - ADAM_BETA1) * gradient
        second = ADAM_BETA2 * second + (1 - ADAM_BETA2) * gradient * gradient
        corrected = moment / (1 - ADAM_BETA1 ** count)
        reference = reference - lr * corrected / ((second / (1 - ADAM_BETA2 ** count)).sqrt() + ADAM_EPS)
    return torch.allclose(fused, reference, atol=1e-6)
