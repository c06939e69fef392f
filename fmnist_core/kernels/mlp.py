"""The MLP kernel: a whole chunk of an MLP's training (images in; loss, right answers and every gradient out) in
one C call, its matrix products by the sgemm of PyTorch's own BLAS; a batch that is one chunk also takes its Adam
step in that call, on the optimizer's own moments. A batch-32 step was about 25 PyTorch operators on tiny tensors,
more than its arithmetic."""
from __future__ import annotations

import ctypes

import torch
from torch import nn

from .. import optimizers
from .bindings import address, blas_sgemm, call, pointers


class DenseStepRunner(nn.Module):
    """Runs a built MLP unchanged (evaluation, feature capture) and also trains a chunk of it in one C call:
    `train_chunk` adds the chunk's gradients into the parameters' `.grad` and its loss and right answers into
    the epoch's sums, as the plain loop's forward, loss and backward would."""

    def __init__(self, model: nn.Sequential):
        super().__init__()
        self.model = model
        self.linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
        self.widths = (ctypes.c_int * (len(self.linears) + 1))(
            self.linears[0].in_features, *(linear.out_features for linear in self.linears))
        self.grad_buffers: list[torch.Tensor] | None = None
        self.kernels_on = True  # off for good after a kernel failed (kernels.fall_back)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)

    def train_chunk(self, images: torch.Tensor, labels: torch.Tensor, chunk: torch.Tensor, grad_scale: float,
                    label_smoothing: float, loss_sum: torch.Tensor, correct: torch.Tensor) -> None:
        parameters = [parameter for linear in self.linears for parameter in (linear.weight, linear.bias)]
        accumulate = parameters[0].grad is not None
        if not accumulate:
            # The optimizer's zero_grad leaves None: hand back the same buffers (the kernel overwrites them).
            if self.grad_buffers is None:
                self.grad_buffers = [torch.empty_like(parameter) for parameter in parameters]
            for parameter, buffer in zip(parameters, self.grad_buffers, strict=True):
                parameter.grad = buffer
        grads = [parameter.grad for parameter in parameters]
        call("dense_step", "dense_train_chunk",
             blas_sgemm(), address(images), address(labels), address(chunk), len(chunk), len(self.linears),
             self.widths, pointers(parameters[0::2]), pointers(parameters[1::2]), pointers(grads[0::2]),
             pointers(grads[1::2]), grad_scale, label_smoothing, int(accumulate), address(loss_sum),
             address(correct))

    def adam_stepper(self, optimizer):
        """A function (images, labels, batch, label_smoothing, loss_sum, correct, settings) that trains a whole
        batch and takes its Adam step in one C call, with `optimizer`'s own moments and step count (checkpoints
        and resumes see the same state); None where `optimizer` is not a fused Adam over exactly these
        parameters."""
        parameters = [parameter for linear in self.linears for parameter in (linear.weight, linear.bias)]
        moments = optimizer.adam_moments(parameters)
        if moments is None:
            return None
        if self.grad_buffers is None:
            self.grad_buffers = [torch.empty_like(parameter) for parameter in parameters]
        # The pointers are fixed for the epoch: parameters, gradients and moments are updated in place.
        fixed = (self.widths, pointers(parameters[0::2]), pointers(parameters[1::2]),
                 pointers(self.grad_buffers[0::2]), pointers(self.grad_buffers[1::2]))
        exp_avgs, exp_avg_sqs = (pointers(tensors) for tensors in moments)

        def train_step(images, labels, batch, label_smoothing, loss_sum, correct, settings) -> None:
            step_number = optimizer.steps_taken + 1  # Adam's bias correction counts this step
            call("dense_step", "dense_train_step_adam", blas_sgemm(), address(images), address(labels),
                 address(batch), len(batch), len(self.linears), *fixed, label_smoothing, address(loss_sum),
                 address(correct), exp_avgs, exp_avg_sqs, settings.lr, settings.beta1, optimizers.ADAM_BETA2,
                 optimizers.ADAM_EPS, step_number)
            optimizer.count_adam_step()  # only once the step was taken: a failed call leaves the count as it was

        return train_step


def dense_steppable(module: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> bool:
    """The kernel reads uint8 images, int64 labels and float32 parameters, contiguous, in CPU memory."""
    parameters = list(module.parameters())
    return (images.device.type == "cpu" and images.dtype == torch.uint8 and images.is_contiguous()
            and labels.dtype == torch.int64 and labels.is_contiguous()
            and all(parameter.dtype == torch.float32 and parameter.is_contiguous() for parameter in parameters))
