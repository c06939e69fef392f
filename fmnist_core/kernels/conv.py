"""The CNN kernels as autograd Functions and modules: the fused first stage (conv over the grey channel → max-pool
→ ReLU), later 3×3 conv layers by Winograd F(4×4, 3×3) (with their pool and ReLU where they follow), and the weight
gradient of other later conv layers. Each runs on CPU float32 inputs; anything else goes through the model's own
modules. The model's modules are shared, never copied: hooks, checkpoints and feature maps see the same network."""
from __future__ import annotations

import torch
from torch import nn

from ..kinds.cnn import CNNSpec
from .bindings import address, call, library


class FirstStage(torch.autograd.Function):
    """relu(max_pool(conv2d(images, weight, bias, padding), pool)) for images (N, 1, H, W); the gradient goes
    to weight and bias only (images are data). Output (N, C, Hp, Wq) in channels_last memory."""

    @staticmethod
    def forward(ctx, images, weight, bias, padding: int, pool: int):
        n, _, height, width = images.shape
        channels, _, kernel, _ = weight.shape
        out_h = (height + 2 * padding - kernel + 1) // pool
        out_w = (width + 2 * padding - kernel + 1) // pool
        images = images.contiguous()
        taps_by_channel = weight.detach().reshape(channels, kernel * kernel).t().contiguous()
        output = images.new_empty((n, out_h, out_w, channels))
        choice = torch.empty((n, out_h, out_w, channels), dtype=torch.int32)
        dims = (n, height, width, channels, kernel, padding, pool, torch.get_num_threads())
        call("first_stage", "first_stage_forward",
             address(images), address(taps_by_channel), address(bias.detach().contiguous()),
            address(output), address(choice), *dims)
        ctx.save_for_backward(images, output, choice)
        ctx.dims = dims
        return output.permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad_output):
        images, output, choice = ctx.saved_tensors
        n, height, width, channels, kernel, padding, pool, threads = ctx.dims
        grad = grad_output.permute(0, 2, 3, 1).contiguous()
        sums = images.new_empty(((kernel * kernel + 1) * channels,))
        call("first_stage", "first_stage_backward",
             address(images), address(output), address(choice), address(grad), address(sums),
            n, height, width, channels, kernel, padding, pool, threads)
        taps = kernel * kernel * channels
        grad_weight = sums[:taps].view(kernel * kernel, channels).t().reshape(channels, 1, kernel, kernel)
        return None, grad_weight, sums[taps:], None, None


class ConvWeightGradByKernel(torch.autograd.Function):
    """conv2d(x, weight, bias, padding) with stride 1: forward and input gradient by oneDNN, the weight and bias
    gradients by the C kernel in one pass (channels-last memory, channel counts multiples of 8)."""

    @staticmethod
    def forward(ctx, x, weight, bias, padding: int):
        ctx.save_for_backward(x, weight)
        ctx.padding = padding
        return nn.functional.conv2d(x, weight, bias, padding=padding)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        padding = ctx.padding
        out_channels, in_channels, kernel, _ = weight.shape
        grad_input = None
        if ctx.needs_input_grad[0]:
            grad_input = torch.nn.grad.conv2d_input(x.shape, weight, grad_output, padding=padding)
        x_last = x.permute(0, 2, 3, 1).contiguous()
        grad_last = grad_output.permute(0, 2, 3, 1).contiguous()
        taps = x.new_empty((kernel, kernel, in_channels, out_channels))
        grad_bias = x.new_empty((out_channels,))
        n, _, height, width = x.shape
        call("conv_weight_grad", "conv_weight_grad",
             address(x_last), address(grad_last), address(taps), address(grad_bias), n, height, width,
            in_channels, out_channels, kernel, padding, torch.get_num_threads())
        return grad_input, taps.permute(3, 2, 0, 1), grad_bias, None


def transformed_filter(weight: torch.Tensor, for_input_grad: bool, out: torch.Tensor | None = None) -> torch.Tensor:
    """The 3×3 filters in Winograd's domain, (points, Ci, Co); for the input gradient turned and (points, Co, Ci).
    Into `out` where given (of that shape)."""
    out_channels, in_channels = weight.shape[:2]
    # Held in a name until the call returns: a temporary's memory is freed as soon as its address is taken.
    weight = weight.detach().contiguous()
    points = call("winograd", "winograd_points")
    transformed = out if out is not None else weight.new_empty(
        (points, out_channels, in_channels) if for_input_grad else (points, in_channels, out_channels))
    call("winograd", "winograd_filter", address(weight), address(transformed), in_channels, out_channels,
                            int(for_input_grad))
    return transformed


def live_input_rows_columns(height: int, width: int, out_h: int, out_w: int, padding: int) -> tuple[int, int]:
    """The rows and columns of a Winograd layer's input gradient that can be other than zero when a 2×2 pool
    follows its (out_h, out_w) output: the pool drops an odd output's last row and column, so the input gradient
    is zero from row 2·(out_h // 2) + 2 − padding on (a 12×12 of 13×13 in the seed CNN: 9 tiles, not 16)."""
    return min(height, 2 * (out_h // 2) + 2 - padding), min(width, 2 * (out_w // 2) + 2 - padding)


def _winograd_conv(x_last: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding: int,
                   for_input_grad: bool, pool_relu: bool = False, live: tuple[int, int] | None = None):
    """conv2d of x_last (N, H, W, C) by the 3×3 `weight` in channels-last memory; with `for_input_grad`, the
    convolution that takes an output gradient back to the layer's input. With `pool_relu`, relu(max_pool_2x2)
    of it and the pool's choices. `live` (rows, columns): only those first outputs can be other than zero, and
    only they are computed."""
    transformed = transformed_filter(weight, for_input_grad)
    _, in_channels, out_channels = transformed.shape
    bias = None if bias is None else bias.detach().contiguous()
    n, height, width, _ = x_last.shape
    out_h, out_w = height + 2 * padding - 2, width + 2 * padding - 2
    shape, threads = (n, height, width, in_channels, out_channels, padding), torch.get_num_threads()
    bias_address = None if bias is None else address(bias)
    if pool_relu:
        output = x_last.new_empty((n, out_h // 2, out_w // 2, out_channels))
        choice = torch.empty(output.shape, dtype=torch.int32)
        call("winograd", "winograd_forward_pool_relu", address(x_last), address(transformed), bias_address,
                                                    address(output), address(choice), *shape, threads)
    else:
        output, choice = x_last.new_empty((n, out_h, out_w, out_channels)), None
        rows, columns = live or (out_h, out_w)
        call("winograd", "winograd_forward", address(x_last), address(transformed), bias_address, address(output),
             *shape, rows, columns, threads)
    return (output, choice) if pool_relu else output


def _winograd_backward(x_last: torch.Tensor, weight: torch.Tensor, padding: int, grad_last: torch.Tensor,
                       needs_input_grad: bool, live: tuple[int, int] | None = None):
    """Input (or None), weight and bias gradients of a Winograd convolution from its output gradient; `live`: the
    rows and columns of the input gradient that can be other than zero."""
    grad_input = None
    if needs_input_grad:
        grad_input = _winograd_conv(grad_last, weight, None, 2 - padding, for_input_grad=True,
                                    live=live).permute(0, 3, 1, 2)
    out_channels, in_channels = weight.shape[:2]
    grad_weight = weight.new_empty(weight.shape)  # (Co, Ci, 3, 3) contiguous, whatever the weight's layout
    grad_bias = weight.new_empty((out_channels,))
    n, height, width, _ = x_last.shape
    call("winograd", "winograd_weight_grad",
         address(x_last), address(grad_last), address(grad_weight), address(grad_bias), n, height, width,
        in_channels, out_channels, padding, torch.get_num_threads())
    return grad_input, grad_weight, grad_bias


class WinogradConv3x3(torch.autograd.Function):
    """conv2d(x, weight, bias, padding) for a 3×3 kernel, stride 1, by Winograd F(4×4, 3×3): forward, input
    gradient and weight gradient (channel counts multiples of 16). Output in channels-last memory."""

    @staticmethod
    def forward(ctx, x, weight, bias, padding: int):
        x_last = x.permute(0, 2, 3, 1).contiguous()
        ctx.save_for_backward(x_last, weight)
        ctx.padding = padding
        return _winograd_conv(x_last, weight, bias, padding, for_input_grad=False).permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad_output):
        x_last, weight = ctx.saved_tensors
        grad_last = grad_output.permute(0, 2, 3, 1).contiguous()
        return *_winograd_backward(x_last, weight, ctx.padding, grad_last, ctx.needs_input_grad[0]), None


class WinogradConvPoolReLU(torch.autograd.Function):
    """relu(max_pool2d(conv2d(x, weight, bias, padding), 2)) with the convolution by Winograd F(4×4, 3×3): its
    output never goes to memory, and the pool and ReLU gradients are one pass. Output in channels-last memory."""

    @staticmethod
    def forward(ctx, x, weight, bias, padding: int):
        x_last = x.permute(0, 2, 3, 1).contiguous()
        output, choice = _winograd_conv(x_last, weight, bias, padding, for_input_grad=False, pool_relu=True)
        ctx.save_for_backward(x_last, weight, output, choice)
        ctx.padding = padding
        return output.permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad_output):
        x_last, weight, output, choice = ctx.saved_tensors
        n, height, width, _ = x_last.shape
        out_h, out_w = height + 2 * ctx.padding - 2, width + 2 * ctx.padding - 2
        pooled_grad = grad_output.permute(0, 2, 3, 1).contiguous()
        grad_last = pooled_grad.new_empty((n, out_h, out_w, weight.shape[0]))
        call("winograd", "pool_relu_backward", address(pooled_grad), address(output), address(choice),
                                               address(grad_last), n, out_h, out_w, weight.shape[0],
                                               torch.get_num_threads())
        live = live_input_rows_columns(height, width, out_h, out_w, ctx.padding)
        return *_winograd_backward(x_last, weight, ctx.padding, grad_last, ctx.needs_input_grad[0], live), None


class KernelConv(nn.Module):
    """Runs `conv` (shared, not copied) through a kernel for CPU float32 inputs: Winograd where it fits, else
    oneDNN with the weight gradient by ConvWeightGradByKernel. With `pool_relu`, it stands for the model's
    conv → 2×2 max-pool → ReLU (Winograd only)."""

    def __init__(self, conv: nn.Conv2d, winograd: bool, pool_relu: bool = False):
        super().__init__()
        self.conv = conv
        self.pool_relu = pool_relu
        self.function = (WinogradConvPoolReLU if pool_relu else WinogradConv3x3) if winograd \
            else ConvWeightGradByKernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or x.dtype != torch.float32:
            out = self.conv(x)
            return torch.relu(nn.functional.max_pool2d(out, 2)) if self.pool_relu else out
        return self.function.apply(x, self.conv.weight, self.conv.bias, self.conv.padding[0])


def _weight_grad_fits(conv: nn.Module) -> bool:
    return (isinstance(conv, nn.Conv2d) and conv.in_channels % 8 == 0 and conv.out_channels % 8 == 0
            and conv.kernel_size[0] <= 7 and conv.stride == (1, 1) and conv.groups == 1 and conv.bias is not None)


def _is_pool2(layer: nn.Module | None) -> bool:
    """A plain 2×2 max-pool with stride 2 (what the fused Winograd output transform computes)."""
    return (isinstance(layer, nn.MaxPool2d) and layer.kernel_size in (2, (2, 2)) and layer.stride in (2, (2, 2))
            and layer.padding in (0, (0, 0)) and layer.dilation in (1, (1, 1)) and not layer.ceil_mode
            and not layer.return_indices)


def _winograd_fits(conv: nn.Module) -> bool:
    return (_weight_grad_fits(conv) and conv.kernel_size == (3, 3) and conv.padding[0] == conv.padding[1] <= 2
            and conv.in_channels % 16 == 0 and conv.out_channels % 16 == 0 and conv.dilation == (1, 1))


class FusedFirstStage(nn.Module):
    """Runs a built CNN (`nn.Sequential` named conv1, pool1, relu1, …) with its first stage fused; any input
    the kernel does not take (not on the CPU, not float32, needing its own gradient) goes through the
    model unchanged."""

    def __init__(self, model: nn.Sequential, spec: CNNSpec):
        super().__init__()
        self.model = model
        self.padding, self.pool = spec.padding, spec.pool
        first_stage = {"conv1", "pool1", "relu1"}
        with_kernel = library("conv_weight_grad") is not None
        with_winograd = library("winograd") is not None
        later = [layer for name, layer in model.named_children() if name not in first_stage]
        rest = []
        while later:
            layer = later.pop(0)
            if with_winograd and _winograd_fits(layer):
                pool_relu = _is_pool2(later[0] if later else None) and isinstance(later[1:2] and later[1], nn.ReLU)
                rest.append(KernelConv(layer, winograd=True, pool_relu=pool_relu))
                if pool_relu:
                    del later[:2]
            elif with_kernel and _weight_grad_fits(layer):
                rest.append(KernelConv(layer, winograd=False))
            else:
                rest.append(layer)
        self.rest = nn.Sequential(*rest)
        self.kernels_on = True  # off for good after a kernel failed (kernels.fall_back)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if not self.kernels_on or images.device.type != "cpu" or images.dtype != torch.float32 \
                or images.requires_grad:
            return self.model(images)
        conv = self.model.conv1
        return self.rest(FirstStage.apply(images, conv.weight, conv.bias, self.padding, self.pool))


def fusable(spec) -> bool:
    """The kernel takes 8k filters (one vector of 8 floats per block), kernels up to 7×7, pools up to 4×4."""
    return (isinstance(spec, CNNSpec) and spec.conv_channels[0] % 8 == 0 and spec.kernel_size <= 7
            and 1 <= spec.pool <= 4)
