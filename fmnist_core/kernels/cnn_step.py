"""A whole chunk of a CNN's training by kernel calls, without autograd: images in; loss, right answers and every
gradient out. It applies where every later conv layer runs Winograd with its pool and ReLU (the seed CNN, the
presets, most of the lesson's exercises) and PyTorch's BLAS is at hand for the dense layers; elsewhere the
accelerated module trains through autograd.

Per chunk, autograd built a graph of about forty nodes, allocated every map afresh, copied maps between layouts
and ran the dense layers and the loss as some twenty small operators: on two cores, about a sixth of a seed-CNN
epoch (BENCHMARKS.md). Here each map has one buffer, kept for the run, in the layout the next kernel reads, and
the dense layers with the loss are one call of the MLP kernel (dense_step.c). The last pooled map stays
channels-last: the dense layer's weight is reordered once per batch to read it so, and its gradient back."""
from __future__ import annotations

import ctypes

import torch
from torch import nn

from .bindings import address, blas_sgemm, call, pointers
from .conv import FusedFirstStage, KernelConv, WinogradConvPoolReLU, live_input_rows_columns, transformed_filter

# The chunk this trainer takes: with no autograd graph to build, a 256-image chunk trains faster per image than the
# autograd path's 128 (BENCHMARKS.md, "A CNN batch without autograd").
CHUNK_SIZE = 256


def chunk_shaped(module: nn.Module) -> bool:
    """A module CNNChunkTrainer can train, whatever the data: a fused CNN with its kernels on, whose later conv
    layers all run Winograd with pool and ReLU, then Flatten → Linear → ReLU → Linear; PyTorch's BLAS found (the
    dense layers' products)."""
    return (isinstance(module, FusedFirstStage) and module.kernels_on and _convs_and_head(module) is not None
            and blas_sgemm() is not None)


def chunk_trainable(module: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> bool:
    """chunk_shaped, with float32 weights in CPU memory (the dense layers' contiguous, as the C head reads them),
    uint8 images (N, H, W) and int64 labels."""
    if not chunk_shaped(module):
        return False
    _, dense, output = _convs_and_head(module)
    return (images.device.type == "cpu" and images.dtype == torch.uint8 and images.dim() == 3
            and images.is_contiguous() and labels.dtype == torch.int64 and labels.is_contiguous()
            and all(parameter.dtype == torch.float32 and parameter.device.type == "cpu"
                    for parameter in module.parameters())
            and all(parameter.is_contiguous() for linear in (dense, output) for parameter in linear.parameters()))


def _convs_and_head(module: FusedFirstStage) -> tuple[list[nn.Conv2d], nn.Linear, nn.Linear] | None:
    """(the Winograd layers' convs, the dense Linear, the output Linear), or None for any other shape."""
    layers = list(module.rest)
    convs = []
    while layers and isinstance(layers[0], KernelConv):
        layer = layers.pop(0)
        if layer.function is not WinogradConvPoolReLU:
            return None
        convs.append(layer.conv)
    if len(layers) != 3 or not isinstance(layers[0], nn.Flatten) or not isinstance(layers[2], nn.Linear):
        return None
    dense = layers[1]
    if not (isinstance(dense, nn.Sequential) and len(dense) == 2 and isinstance(dense[0], nn.Linear)
            and isinstance(dense[1], nn.ReLU)):
        return None
    return convs, dense[0], layers[2]


class _Buffers:
    """One chunk's maps, each allocated once for the largest chunk seen and sliced for smaller ones (a fresh
    map of a few MiB per call is fresh pages for the kernel to fault in)."""

    def __init__(self):
        self.capacity, self.held = 0, {}

    def get(self, name: str, n: int, shape: tuple[int, ...], dtype=torch.float32) -> torch.Tensor:
        if n > self.capacity:
            self.capacity, self.held = n, {}
        if name not in self.held:
            self.held[name] = torch.empty((self.capacity, *shape), dtype=dtype)
        return self.held[name][:n]


class CNNChunkTrainer:
    """Trains a batch of `runner` (a FusedFirstStage that chunk_trainable accepts) chunk by chunk: sets every
    parameter's `.grad` to the batch's mean-loss gradient and adds the loss and right answers into the epoch's
    sums, as the plain loop's forward, loss and backward would (up to rounding). The optimizer step stays the
    trainer's."""

    def __init__(self, runner: FusedFirstStage, images: torch.Tensor, labels: torch.Tensor, label_smoothing: float):
        self.convs, self.dense, self.output = _convs_and_head(runner)
        self.first = runner.model.conv1
        self.padding, self.pool, self.kernel = runner.padding, runner.pool, self.first.kernel_size[0]
        self.images, self.labels, self.smoothing = images, labels, label_smoothing
        self.buffers = _Buffers()
        self.size = tuple(images.shape[1:])
        size = tuple((side + 2 * self.padding - self.kernel + 1) // self.pool for side in self.size)
        self.first_out = (*size, self.first.out_channels)  # the first stage's pooled map (H, W, C)
        self.layer_sizes = []  # per Winograd layer: its input (H, W, Ci), conv output (Ho, Wo), pooled (Hp, Wp, Co)
        for conv in self.convs:
            conv_size = tuple(side + 2 * conv.padding[0] - 2 for side in size)
            pooled = tuple(side // 2 for side in conv_size)
            self.layer_sizes.append(((*size, conv.in_channels), conv_size, (*pooled, conv.out_channels)))
            size = pooled
        self.features = (*size, self.convs[-1].out_channels if self.convs else self.first.out_channels)
        self.widths = (ctypes.c_int * 3)(self.dense.in_features, self.dense.out_features, self.output.out_features)
        # the dense layers' gradients, written by the kernel and handed over as .grad (the dense weight's reordered)
        self.head_weight_grads = [torch.empty_like(self.dense.weight), torch.empty_like(self.output.weight)]
        self.head_bias_grads = [torch.empty_like(self.dense.bias), torch.empty_like(self.output.bias)]

    def train(self, index: torch.Tensor, chunks, loss_sum: torch.Tensor, correct: torch.Tensor, settings) -> bool:
        """The gradients of the batch `index` (split into `chunks`); False: the optimizer step is the trainer's."""
        threads = torch.get_num_threads()
        first = self.first
        taps = first.weight.detach().reshape(first.out_channels, -1).t().contiguous()
        first_bias = first.bias.detach().contiguous()
        # the filters in Winograd's domain, for the forward pass and turned for the input gradient: once a batch
        forward_filters = [transformed_filter(conv.weight, for_input_grad=False) for conv in self.convs]
        backward_filters = [transformed_filter(conv.weight, for_input_grad=True) for conv in self.convs]
        conv_biases = [conv.bias.detach().contiguous() for conv in self.convs]
        # the dense layer reads the last pooled map channels-last: its columns reordered from (C, H, W) to (H, W, C)
        dense_weight = self.dense.weight.detach()
        rows, columns, channels = self.features
        dense_last = dense_weight.view(-1, channels, rows, columns).permute(0, 2, 3, 1).contiguous()
        head = (self.widths, pointers([dense_last, self.output.weight.detach()]),
                pointers([self.dense.bias.detach(), self.output.bias.detach()]), pointers(self.head_weight_grads),
                pointers(self.head_bias_grads))
        conv_grads: list[torch.Tensor | None] = [None] * (2 + 2 * len(self.convs))

        def add(position: int, value: torch.Tensor) -> None:
            conv_grads[position] = value if conv_grads[position] is None else conv_grads[position].add_(value)

        for number, chunk in enumerate(chunks):
            chunk = chunk.to(torch.int64).contiguous()  # the kernels read it as int64_t[n] (as it comes: no copy)
            n, buffers = len(chunk), self.buffers
            x = buffers.get("images", n, self.size)
            call("dense_step", "gather_images", address(self.images), address(chunk), n, x[0].numel(), address(x))
            # forward: the first stage, then each Winograd layer with its pool and ReLU, keeping what backward reads
            maps = [buffers.get("map0", n, self.first_out)]
            choices = [buffers.get("choice0", n, self.first_out, torch.int32)]
            call("first_stage", "first_stage_forward", address(x), address(taps), address(first_bias),
                 address(maps[0]), address(choices[0]), n, *self.size, first.out_channels, self.kernel,
                 self.padding, self.pool, threads)
            for layer, (conv, (size_in, _, size_out)) in enumerate(zip(self.convs, self.layer_sizes, strict=True), 1):
                maps.append(buffers.get(f"map{layer}", n, size_out))
                choices.append(buffers.get(f"choice{layer}", n, size_out, torch.int32))
                call("winograd", "winograd_forward_pool_relu", address(maps[-2]), address(forward_filters[layer - 1]),
                     address(conv_biases[layer - 1]), address(maps[-1]), address(choices[-1]), n, *size_in,
                     conv.out_channels, conv.padding[0], threads)
            # the dense layers, the loss and their backward in one call, down to the last pooled map's gradient
            grad_pooled = buffers.get("grad_features", n, self.features)
            call("dense_step", "dense_head_chunk", blas_sgemm(), address(maps[-1]), address(grad_pooled),
                 address(self.labels), address(chunk), n, 2, *head, 1 / len(index), self.smoothing,
                 int(number > 0), address(loss_sum), address(correct))
            for layer in range(len(self.convs), 0, -1):
                conv, padding = self.convs[layer - 1], self.convs[layer - 1].padding[0]
                size_in, (out_h, out_w), _ = self.layer_sizes[layer - 1]
                grad_conv = buffers.get(f"grad_conv{layer}", n, (out_h, out_w, conv.out_channels))
                call("winograd", "pool_relu_backward", address(grad_pooled), address(maps[layer]),
                     address(choices[layer]), address(grad_conv), n, out_h, out_w, conv.out_channels, threads)
                live = live_input_rows_columns(*size_in[:2], out_h, out_w, padding)
                grad_pooled = buffers.get(f"grad_map{layer - 1}", n, size_in)
                call("winograd", "winograd_forward", address(grad_conv), address(backward_filters[layer - 1]), None,
                     address(grad_pooled), n, out_h, out_w, conv.out_channels, conv.in_channels, 2 - padding, *live,
                     threads)
                grad_weight, grad_bias = torch.empty(conv.weight.shape), torch.empty(conv.out_channels)
                call("winograd", "winograd_weight_grad", address(maps[layer - 1]), address(grad_conv),
                     address(grad_weight), address(grad_bias), n, *size_in, conv.out_channels, padding, threads)
                add(2 * layer, grad_weight)
                add(2 * layer + 1, grad_bias)
            sums = torch.empty(((self.kernel * self.kernel + 1) * first.out_channels,))
            call("first_stage", "first_stage_backward", address(x), address(maps[0]), address(choices[0]),
                 address(grad_pooled), address(sums), n, *self.size, first.out_channels, self.kernel,
                 self.padding, self.pool, threads)
            taps_count = self.kernel * self.kernel * first.out_channels
            add(0, sums[:taps_count].view(-1, first.out_channels).t())
            add(1, sums[taps_count:])
        conv_parameters = [first.weight, first.bias] + [p for conv in self.convs for p in (conv.weight, conv.bias)]
        for parameter, grad in zip(conv_parameters, conv_grads, strict=True):
            # in the parameter's own layout (the convs' weights are channels-last), as autograd hands it
            parameter.grad = torch.empty_like(parameter).copy_(grad.reshape(parameter.shape))
        dense_grad = torch.empty_like(self.dense.weight)
        dense_grad.view(-1, channels, rows, columns).copy_(
            self.head_weight_grads[0].view(-1, rows, columns, channels).permute(0, 3, 1, 2))
        self.dense.weight.grad, self.output.weight.grad = dense_grad, self.head_weight_grads[1]
        self.dense.bias.grad, self.output.bias.grad = self.head_bias_grads
        return False
