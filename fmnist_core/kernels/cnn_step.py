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


class _ChunkMaps:
    """One chunk's maps, each allocated once for the largest chunk seen (a fresh map of a few MiB per call is fresh
    pages for the kernel to fault in), and for each chunk length their views and addresses, made once: a PyTorch
    operation or a ctypes wrapper costs microseconds, and a batch made some seventy of them."""

    def __init__(self, shapes: dict[str, tuple[tuple[int, ...], torch.dtype]]):
        self.shapes, self.capacity, self.held, self.views = shapes, 0, {}, {}

    def of(self, n: int) -> dict[str, tuple[torch.Tensor, ctypes.c_void_p]]:
        """name → (the map for `n` images, its address)."""
        if n > self.capacity:
            self.capacity, self.views = n, {}
            self.held = {name: torch.empty((n, *shape), dtype=dtype) for name, (shape, dtype) in self.shapes.items()}
        if n not in self.views:
            self.views[n] = {name: (held[:n], address(held[:n])) for name, held in self.held.items()}
        return self.views[n]


class CNNChunkTrainer:
    """Trains a batch of `runner` (a FusedFirstStage that chunk_trainable accepts) chunk by chunk: sets every
    parameter's `.grad` to the batch's mean-loss gradient and adds the loss and right answers into the epoch's
    sums, as the plain loop's forward, loss and backward would (up to rounding). The optimizer step stays the
    trainer's. Parameters are read through views made once (they are updated in place) and copied once a batch
    into the layouts the kernels read; gradients land in buffers kept for the run."""

    def __init__(self, runner: FusedFirstStage, images: torch.Tensor, labels: torch.Tensor, label_smoothing: float):
        self.convs, self.dense, self.output = _convs_and_head(runner)
        first = self.first = runner.model.conv1
        self.padding, self.pool, self.kernel = runner.padding, runner.pool, first.kernel_size[0]
        self.images, self.labels, self.smoothing = images, labels, label_smoothing
        self.size = tuple(images.shape[1:])
        size = tuple((side + 2 * self.padding - self.kernel + 1) // self.pool for side in self.size)
        self.first_out = (*size, first.out_channels)  # the first stage's pooled map (H, W, C)
        self.layer_sizes = []  # per Winograd layer: its input (H, W, Ci), conv output (Ho, Wo), pooled (Hp, Wp, Co)
        self.live = []  # per Winograd layer: the rows and columns of its input gradient that can be other than zero
        for conv in self.convs:
            conv_size = tuple(side + 2 * conv.padding[0] - 2 for side in size)
            pooled = tuple(side // 2 for side in conv_size)
            self.layer_sizes.append(((*size, conv.in_channels), conv_size, (*pooled, conv.out_channels)))
            self.live.append(live_input_rows_columns(*size, *conv_size, conv.padding[0]))
            size = pooled
        self.features = (*size, self.convs[-1].out_channels if self.convs else first.out_channels)
        shapes = {"images": (self.size, torch.float32), "map0": (self.first_out, torch.float32),
                  "choice0": (self.first_out, torch.int32), "grad_features": (self.features, torch.float32)}
        for layer, (conv, (size_in, conv_size, size_out)) in enumerate(zip(self.convs, self.layer_sizes,
                                                                             strict=True), 1):
            shapes |= {f"map{layer}": (size_out, torch.float32), f"choice{layer}": (size_out, torch.int32),
                       f"grad_conv{layer}": ((*conv_size, conv.out_channels), torch.float32),
                       f"grad_map{layer - 1}": (size_in, torch.float32)}
        self.maps = _ChunkMaps(shapes)

        # the kernels' copies of the parameters: the first stage's taps (K·K, C), the 3×3 filters contiguous and in
        # Winograd's domain (forward, and turned for the input gradient), the dense weight reading (H, W, C)
        channels, taps = first.out_channels, self.kernel * self.kernel
        self.taps, self.taps_source = torch.empty(taps, channels), first.weight.detach().view(channels, taps).t()
        points = call("winograd", "winograd_points")
        self.filters = [(torch.empty(points, conv.in_channels, conv.out_channels),  # per Winograd layer: forward,
                         torch.empty(points, conv.out_channels, conv.in_channels))  # and turned for the input grad
                        for conv in self.convs]
        rows, columns, last = self.features
        width = self.dense.out_features
        self.dense_last = torch.empty(width, rows * columns * last)
        self.dense_source = self.dense.weight.detach().view(width, last, rows, columns).permute(0, 2, 3, 1)
        # gradients: the kernels write these; handed over as .grad, in each parameter's own layout
        self.first_sums = torch.empty((taps + 1) * channels)
        self.first_weight_grad = torch.empty_like(first.weight)
        self.conv_grads = [(torch.empty(conv.weight.shape), torch.empty(conv.out_channels),
                            torch.empty_like(conv.weight)) for conv in self.convs]  # kernel's, bias, in layout
        head_weight_grads = [torch.empty_like(self.dense.weight), torch.empty_like(self.output.weight)]
        self.head_bias_grads = [torch.empty_like(self.dense.bias), torch.empty_like(self.output.bias)]
        self.output_weight_grad = head_weight_grads[1]
        self.dense_grad = torch.empty_like(self.dense.weight)
        self.dense_grad_pair = (self.dense_grad.view(width, last, rows, columns),
                                head_weight_grads[0].view(width, rows, columns, last).permute(0, 3, 1, 2))
        self.head = ((ctypes.c_int * 3)(self.dense.in_features, width, self.output.out_features),
                     pointers([self.dense_last, self.output.weight.detach()]),
                     pointers([self.dense.bias.detach(), self.output.bias.detach()]), pointers(head_weight_grads),
                     pointers(self.head_bias_grads))
        self.addresses = {name: address(tensor) for name, tensor in (
            ("images", images), ("labels", labels), ("taps", self.taps), ("first_bias", first.bias.detach()),
            ("first_sums", self.first_sums))}
        self.layer_addresses = [  # per Winograd layer: forward filters, turned filters, bias, weight grad, bias grad
            (address(forward), address(turned), address(conv.bias.detach()), address(grads[0]), address(grads[1]))
            for conv, (forward, turned), grads in zip(self.convs, self.filters, self.conv_grads, strict=True)]
        self.sgemm = blas_sgemm()  # the dense layers' products (chunk_trainable saw that there is one)
        self.spare = None  # a second set of gradient buffers, for the chunks after a batch's first

    def _spare(self):
        if self.spare is None:
            sums = torch.empty_like(self.first_sums)
            layers = [(torch.empty_like(weight), torch.empty_like(bias)) for weight, bias, _ in self.conv_grads]
            self.spare = (sums, address(sums), layers, [(address(weight), address(bias)) for weight, bias in layers])
        return self.spare

    def train(self, index: torch.Tensor, chunks, loss_sum: torch.Tensor, correct: torch.Tensor, settings) -> bool:
        """The gradients of the batch `index` (split into `chunks`); False: the optimizer step is the trainer's."""
        threads, first, at = torch.get_num_threads(), self.first, self.addresses
        self.taps.copy_(self.taps_source)
        for conv, (forward, turned) in zip(self.convs, self.filters, strict=True):  # once a batch
            transformed_filter(conv.weight, for_input_grad=False, out=forward)
            transformed_filter(conv.weight, for_input_grad=True, out=turned)
        self.dense_last.view(self.dense_source.shape).copy_(self.dense_source)
        loss_at, correct_at = address(loss_sum), address(correct)
        for number, chunk in enumerate(chunks):
            if chunk.dtype != torch.int64 or not chunk.is_contiguous():
                chunk = chunk.to(torch.int64).contiguous()  # the kernels read it as int64_t[n]
            n, chunk_at, maps = len(chunk), address(chunk), self.maps.of(len(chunk))
            more = number > 0  # a later chunk: its gradients go to the spare buffers, then are added
            first_sums_at = self._spare()[1] if more else at["first_sums"]
            call("dense_step", "gather_images", at["images"], chunk_at, n, self.size[0] * self.size[1],
                 maps["images"][1])
            # forward: the first stage, then each Winograd layer with its pool and ReLU, keeping what backward reads
            call("first_stage", "first_stage_forward", maps["images"][1], at["taps"], at["first_bias"],
                 maps["map0"][1], maps["choice0"][1], n, *self.size, first.out_channels, self.kernel,
                 self.padding, self.pool, threads)
            for layer, (conv, (size_in, _, _), (forward_at, _, bias_at, *_)) in enumerate(
                    zip(self.convs, self.layer_sizes, self.layer_addresses, strict=True), 1):
                call("winograd", "winograd_forward_pool_relu", maps[f"map{layer - 1}"][1], forward_at, bias_at,
                     maps[f"map{layer}"][1], maps[f"choice{layer}"][1], n, *size_in, conv.out_channels,
                     conv.padding[0], threads)
            # the dense layers, the loss and their backward in one call, down to the last pooled map's gradient
            call("dense_step", "dense_head_chunk", self.sgemm, maps[f"map{len(self.convs)}"][1],
                 maps["grad_features"][1], at["labels"], chunk_at, n, 2, *self.head, 1 / len(index),
                 self.smoothing, int(more), loss_at, correct_at)
            grad_pooled_at = maps["grad_features"][1]
            for layer in range(len(self.convs), 0, -1):
                conv, padding = self.convs[layer - 1], self.convs[layer - 1].padding[0]
                size_in, (out_h, out_w), _ = self.layer_sizes[layer - 1]
                _, turned_at, _, weight_at, bias_at = self.layer_addresses[layer - 1]
                if more:
                    weight_at, bias_at = self._spare()[3][layer - 1]
                grad_conv_at = maps[f"grad_conv{layer}"][1]
                call("winograd", "pool_relu_backward", grad_pooled_at, maps[f"map{layer}"][1],
                     maps[f"choice{layer}"][1], grad_conv_at, n, out_h, out_w, conv.out_channels, threads)
                grad_pooled_at = maps[f"grad_map{layer - 1}"][1]
                call("winograd", "winograd_forward", grad_conv_at, turned_at, None, grad_pooled_at, n, out_h, out_w,
                     conv.out_channels, conv.in_channels, 2 - padding, *self.live[layer - 1], threads)
                call("winograd", "winograd_weight_grad", maps[f"map{layer - 1}"][1], grad_conv_at, weight_at, bias_at,
                     n, *size_in, conv.out_channels, padding, threads)
            call("first_stage", "first_stage_backward", maps["images"][1], maps["map0"][1], maps["choice0"][1],
                 grad_pooled_at, first_sums_at, n, *self.size, first.out_channels, self.kernel, self.padding,
                 self.pool, threads)
            if more:
                sums, _, layers, _ = self._spare()
                self.first_sums.add_(sums)
                for (weight, bias, _), (more_weight, more_bias) in zip(self.conv_grads, layers, strict=True):
                    weight.add_(more_weight)
                    bias.add_(more_bias)
        taps = self.kernel * self.kernel * first.out_channels
        self.first_weight_grad.view(first.out_channels, -1).copy_(
            self.first_sums[:taps].view(-1, first.out_channels).t())
        first.weight.grad, first.bias.grad = self.first_weight_grad, self.first_sums[taps:]
        for conv, (weight, bias, in_layout) in zip(self.convs, self.conv_grads, strict=True):
            conv.weight.grad, conv.bias.grad = in_layout.copy_(weight), bias  # channels-last, as autograd hands it
        self.dense_grad_pair[0].copy_(self.dense_grad_pair[1])
        self.dense.weight.grad, self.output.weight.grad = self.dense_grad, self.output_weight_grad
        self.dense.bias.grad, self.output.bias.grad = self.head_bias_grads
        return False
