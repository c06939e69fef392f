"""C kernels for training on the CPU, where PyTorch's operators are slowest here.

- The first stage (conv over the one grey channel → max-pool → ReLU): in PyTorch it writes, pools, scatters a
  gradient into and re-reads a 26×26×C map per image, memory traffic rather than arithmetic, a third of a seed-CNN
  step. The kernel computes the pooled output and the weight gradient straight from the 28×28 image.
- Every later 3×3 conv layer (forward, input and weight gradients) by Winograd's F(4×4, 3×3): 4× fewer
  multiplications than the direct convolution, which oneDNN already runs near what these cores do.
- The weight gradient of the other later conv layers (5×5, 7×7), which oneDNN computes at about 58 GFLOP/s here
  against about 95 for the input gradient; their forward and input gradient stay with oneDNN.
- A whole MLP chunk (images in, loss and every gradient out) in one call: a batch-32 step was about 25 PyTorch
  operators on tiny tensors at 5-20 µs each, more than its arithmetic. Its matrix products go to the sgemm of
  PyTorch's own BLAS (MKL in the Linux wheels), found in libtorch_cpu; where that symbol is missing, the plain path.
  A batch that is one chunk (the Keras notebook's batch of 32) also takes its Adam step in that call, on the
  optimizer's own moments.

See native/*.c and BENCHMARKS.md. The model's own modules are untouched, so hooks, checkpoints and feature maps
see the same network.
"""
from __future__ import annotations

import ctypes
from pathlib import Path

import torch
from torch import nn

from . import native, optimizers
from .specs import CNNSpec, MLPSpec

LIBRARY = "first_stage"
WEIGHT_GRAD_LIBRARY = "conv_weight_grad"
DENSE_LIBRARY = "dense_step"
WINOGRAD_LIBRARY = "winograd"
_POINTER, _INT = ctypes.c_void_p, ctypes.c_int


def _library() -> ctypes.CDLL | None:
    library = native.load_library(LIBRARY)
    if library is not None and not getattr(library, "_typed", False):
        for function in (library.first_stage_forward, library.first_stage_backward):
            function.argtypes = [_POINTER] * 5 + [_INT] * 8
            function.restype = _INT
        library._typed = True
    return library


def _weight_grad_library() -> ctypes.CDLL | None:
    library = native.load_library(WEIGHT_GRAD_LIBRARY)
    if library is not None and not getattr(library, "_typed", False):
        library.conv_weight_grad.argtypes = [_POINTER] * 4 + [_INT] * 8
        library.conv_weight_grad.restype = _INT
        library._typed = True
    return library


def _dense_library() -> ctypes.CDLL | None:
    library = native.load_library(DENSE_LIBRARY)
    if library is not None and not getattr(library, "_typed", False):
        library.dense_train_chunk.argtypes = (
            [_POINTER] * 4 + [_INT, _INT] + [_POINTER] * 5 + [ctypes.c_float, ctypes.c_float, _INT] + [_POINTER] * 2)
        library.dense_train_chunk.restype = _INT
        library.dense_train_step_adam.argtypes = (
            [_POINTER] * 4 + [_INT, _INT] + [_POINTER] * 5 + [ctypes.c_float] + [_POINTER] * 4
            + [ctypes.c_float] * 4 + [_INT])
        library.dense_train_step_adam.restype = _INT
        library._typed = True
    return library


def _winograd_library() -> ctypes.CDLL | None:
    library = native.load_library(WINOGRAD_LIBRARY)
    if library is not None and not getattr(library, "_typed", False):
        library.winograd_filter.argtypes = [_POINTER] * 2 + [_INT] * 3
        library.winograd_filter.restype = None
        library.winograd_points.argtypes = []
        library.winograd_points.restype = _INT
        for function in (library.winograd_forward, library.winograd_weight_grad):
            function.argtypes = [_POINTER] * 4 + [_INT] * 7
            function.restype = _INT
        library.winograd_forward_pool_relu.argtypes = [_POINTER] * 5 + [_INT] * 7
        library.winograd_forward_pool_relu.restype = _INT
        library.pool_relu_backward.argtypes = [_POINTER] * 4 + [_INT] * 5
        library.pool_relu_backward.restype = None
        library._typed = True
    return library


_sgemm: list[int | None] = []


def blas_sgemm() -> int | None:
    """Address of the Fortran `sgemm_` that PyTorch's CPU library exports (MKL in the Linux x86 wheels), or None."""
    if not _sgemm:
        address = None
        for name in ("libtorch_cpu.so", "libtorch_cpu.dylib"):
            try:
                address = ctypes.cast(ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / name)).sgemm_,
                                      ctypes.c_void_p).value
                break
            except (OSError, AttributeError):
                continue
        _sgemm.append(address)
    return _sgemm[0]


def _address(tensor: torch.Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(tensor.data_ptr())


class FirstStage(torch.autograd.Function):
    """relu(max_pool(conv2d(images, weight, bias, padding), pool)) for images (N, 1, H, W); the gradient goes
    to weight and bias only (images are data). Output (N, C, Hp, Wq) in channels_last memory."""

    @staticmethod
    def forward(ctx, images, weight, bias, padding: int, pool: int):
        library = _library()
        n, _, height, width = images.shape
        channels, _, kernel, _ = weight.shape
        out_h = (height + 2 * padding - kernel + 1) // pool
        out_w = (width + 2 * padding - kernel + 1) // pool
        images = images.contiguous()
        taps_by_channel = weight.detach().reshape(channels, kernel * kernel).t().contiguous()
        output = images.new_empty((n, out_h, out_w, channels))
        choice = torch.empty((n, out_h, out_w, channels), dtype=torch.int32)
        dims = (n, height, width, channels, kernel, padding, pool, torch.get_num_threads())
        status = library.first_stage_forward(
            _address(images), _address(taps_by_channel), _address(bias.detach().contiguous()),
            _address(output), _address(choice), *dims)
        if status != 0:
            raise ValueError(f"first-stage kernel refused channels={channels} kernel={kernel} pool={pool}")
        ctx.save_for_backward(images, output, choice)
        ctx.dims = dims
        return output.permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad_output):
        images, output, choice = ctx.saved_tensors
        n, height, width, channels, kernel, padding, pool, threads = ctx.dims
        grad = grad_output.permute(0, 2, 3, 1).contiguous()
        sums = images.new_empty(((kernel * kernel + 1) * channels,))
        _library().first_stage_backward(
            _address(images), _address(output), _address(choice), _address(grad), _address(sums),
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
            grad_input = torch.ops.aten.convolution_backward(
                grad_output, x, weight, [out_channels], [1, 1], [padding, padding], [1, 1], False, [0, 0], 1,
                [True, False, False])[0]
        x_last = x.permute(0, 2, 3, 1).contiguous()
        grad_last = grad_output.permute(0, 2, 3, 1).contiguous()
        taps = x.new_empty((kernel, kernel, in_channels, out_channels))
        grad_bias = x.new_empty((out_channels,))
        n, _, height, width = x.shape
        status = _weight_grad_library().conv_weight_grad(
            _address(x_last), _address(grad_last), _address(taps), _address(grad_bias), n, height, width,
            in_channels, out_channels, kernel, padding, torch.get_num_threads())
        if status != 0:
            raise RuntimeError(f"conv weight-gradient kernel failed ({status})")
        return grad_input, taps.permute(3, 2, 0, 1), grad_bias, None


def _transformed_filter(weight: torch.Tensor, for_input_grad: bool) -> torch.Tensor:
    """The 3×3 filters in Winograd's domain, (points, Ci, Co); for the input gradient turned and (points, Co, Ci)."""
    library = _winograd_library()
    out_channels, in_channels = weight.shape[:2]
    # Held in a name until the call returns: a temporary's memory is freed as soon as its address is taken.
    weight = weight.detach().contiguous()
    points = library.winograd_points()
    transformed = weight.new_empty((points, out_channels, in_channels) if for_input_grad
                                   else (points, in_channels, out_channels))
    library.winograd_filter(_address(weight), _address(transformed), in_channels, out_channels,
                            int(for_input_grad))
    return transformed


def _winograd_conv(x_last: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding: int,
                   for_input_grad: bool, pool_relu: bool = False):
    """conv2d of x_last (N, H, W, C) by the 3×3 `weight` in channels-last memory; with `for_input_grad`, the
    convolution that takes an output gradient back to the layer's input. With `pool_relu`, relu(max_pool_2x2)
    of it and the pool's choices."""
    library = _winograd_library()
    transformed = _transformed_filter(weight, for_input_grad)
    _, in_channels, out_channels = transformed.shape
    bias = None if bias is None else bias.detach().contiguous()
    n, height, width, _ = x_last.shape
    out_h, out_w = height + 2 * padding - 2, width + 2 * padding - 2
    dims = (n, height, width, in_channels, out_channels, padding, torch.get_num_threads())
    bias_address = None if bias is None else _address(bias)
    if pool_relu:
        output = x_last.new_empty((n, out_h // 2, out_w // 2, out_channels))
        choice = torch.empty(output.shape, dtype=torch.int32)
        status = library.winograd_forward_pool_relu(_address(x_last), _address(transformed), bias_address,
                                                    _address(output), _address(choice), *dims)
    else:
        output, choice = x_last.new_empty((n, out_h, out_w, out_channels)), None
        status = library.winograd_forward(_address(x_last), _address(transformed), bias_address, _address(output),
                                          *dims)
    if status != 0:
        raise RuntimeError(f"Winograd convolution kernel failed ({status})")
    return (output, choice) if pool_relu else output


def _winograd_backward(x_last: torch.Tensor, weight: torch.Tensor, padding: int, grad_last: torch.Tensor,
                       needs_input_grad: bool):
    """Input (or None), weight and bias gradients of a Winograd convolution from its output gradient."""
    grad_input = None
    if needs_input_grad:
        grad_input = _winograd_conv(grad_last, weight, None, 2 - padding, for_input_grad=True).permute(0, 3, 1, 2)
    out_channels, in_channels = weight.shape[:2]
    grad_weight = weight.new_empty(weight.shape)  # (Co, Ci, 3, 3) contiguous, whatever the weight's layout
    grad_bias = weight.new_empty((out_channels,))
    n, height, width, _ = x_last.shape
    status = _winograd_library().winograd_weight_grad(
        _address(x_last), _address(grad_last), _address(grad_weight), _address(grad_bias), n, height, width,
        in_channels, out_channels, padding, torch.get_num_threads())
    if status != 0:
        raise RuntimeError(f"Winograd weight-gradient kernel failed ({status})")
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
        _winograd_library().pool_relu_backward(_address(pooled_grad), _address(output), _address(choice),
                                               _address(grad_last), n, out_h, out_w, weight.shape[0],
                                               torch.get_num_threads())
        return *_winograd_backward(x_last, weight, ctx.padding, grad_last, ctx.needs_input_grad[0]), None


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
        with_kernel = _weight_grad_library() is not None
        with_winograd = _winograd_library() is not None
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

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.device.type != "cpu" or images.dtype != torch.float32 or images.requires_grad:
            return self.model(images)
        conv = self.model.conv1
        return self.rest(FirstStage.apply(images, conv.weight, conv.bias, self.padding, self.pool))


def _pointers(tensors) -> ctypes.Array:
    return (ctypes.c_void_p * len(tensors))(*(tensor.data_ptr() for tensor in tensors))


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
        status = _dense_library().dense_train_chunk(
            blas_sgemm(), _address(images), _address(labels), _address(chunk), len(chunk), len(self.linears),
            self.widths, _pointers(parameters[0::2]), _pointers(parameters[1::2]), _pointers(grads[0::2]),
            _pointers(grads[1::2]), grad_scale, label_smoothing, int(accumulate), _address(loss_sum),
            _address(correct))
        if status != 0:
            raise RuntimeError(f"MLP step kernel failed ({status})")


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
        fixed = (self.widths, _pointers(parameters[0::2]), _pointers(parameters[1::2]),
                 _pointers(self.grad_buffers[0::2]), _pointers(self.grad_buffers[1::2]))
        exp_avgs, exp_avg_sqs = (_pointers(tensors) for tensors in moments)
        step = _dense_library().dense_train_step_adam

        def train_step(images, labels, batch, label_smoothing, loss_sum, correct, settings) -> None:
            optimizer.count_adam_step()
            status = step(blas_sgemm(), _address(images), _address(labels), _address(batch), len(batch),
                          len(self.linears), *fixed, label_smoothing, _address(loss_sum), _address(correct),
                          exp_avgs, exp_avg_sqs, settings.lr, settings.beta1, optimizers.ADAM_BETA2,
                          optimizers.ADAM_EPS, optimizer.steps_taken)
            if status != 0:
                raise RuntimeError(f"MLP step kernel failed ({status})")

        return train_step


def dense_steppable(module: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> bool:
    """The kernel reads uint8 images, int64 labels and float32 parameters, contiguous, in CPU memory."""
    parameters = list(module.parameters())
    return (images.device.type == "cpu" and images.dtype == torch.uint8 and images.is_contiguous()
            and labels.dtype == torch.int64 and labels.is_contiguous()
            and all(parameter.dtype == torch.float32 and parameter.is_contiguous() for parameter in parameters))


def fusable(spec) -> bool:
    """The kernel takes 8k filters (one vector of 8 floats per block), kernels up to 7×7, pools up to 4×4."""
    return (isinstance(spec, CNNSpec) and spec.conv_channels[0] % 8 == 0 and spec.kernel_size <= 7
            and 1 <= spec.pool <= 4)


def for_cpu(module: nn.Module, spec, device: torch.device) -> nn.Module:
    """`module` with its first stage fused (CNN) or its training chunks in one call (MLP) where a kernel applies
    and builds here, else `module` itself."""
    if device.type != "cpu":
        return module
    if isinstance(spec, MLPSpec):
        usable = len(spec.hidden) < 8 and blas_sgemm() is not None and _dense_library() is not None
        return DenseStepRunner(module) if usable else module
    if not fusable(spec) or _library() is None:
        return module
    return FusedFirstStage(module, spec)


def status() -> str:
    """One line for the bench and the logs: are the kernels in use, and if not, why."""
    if _library() is None:
        return f"PyTorch operators ({native.why_not.get(LIBRARY, 'kernel not available')})"
    no_sgemm = "PyTorch's CPU library exports no sgemm_ here"
    why_missing = {  # part → None when in use, else why not
        "Winograd 3×3 convolutions": None if _winograd_library() else native.why_not.get(WINOGRAD_LIBRARY),
        "conv weight gradients": None if _weight_grad_library() else native.why_not.get(WEIGHT_GRAD_LIBRARY),
        "MLP steps": (no_sgemm if blas_sgemm() is None
                      else None if _dense_library() else native.why_not.get(DENSE_LIBRARY)),
    }
    used = ["fused first stage"] + [part for part, why in why_missing.items() if why is None]
    missing = [f"no {part}: {why}" for part, why in why_missing.items() if why is not None]
    return f"C kernels ({', '.join(used)})" + (f"; {'; '.join(missing)}" if missing else "")
