"""The C kernels (fused first stage, conv weight gradient, MLP step) against PyTorch's own operators, on real
images."""
import shutil

import pytest
import torch
from torch import nn

from conftest import tiny_cnn_run, tiny_mlp_run
from fmnist_core import kernels, training
from fmnist_core.kernels import bindings, build, cnn_step, mlp
from fmnist_core.kernels import conv as conv_kernels
from fmnist_core.kinds.cnn import CNNSpec
from fmnist_core.kinds.mlp import MLPSpec
from fmnist_core.models import build_model
from fmnist_core.specs import RunSpec, TrainConfig
from fmnist_core.training import as_input, fit

pytestmark = pytest.mark.skipif(build._compiler() is None, reason="no C compiler on this machine")


@pytest.fixture(autouse=True)
def native_on(monkeypatch):
    monkeypatch.setenv("FMNIST_NATIVE", "1")


def _reference(images, conv, pool):
    out = conv(images)
    return torch.relu(nn.functional.max_pool2d(out, pool) if pool > 1 else out)


def test_every_kernel_builds_on_this_machine():
    """The comparisons below are only worth something when the C kernels run (not PyTorch's fallback)."""
    assert kernels.status() == ("C kernels (fused first stage, Winograd 3×3 convolutions, conv weight gradients, "
                              "MLP steps)"), kernels.status()


@pytest.mark.parametrize(("channels", "kernel", "padding", "pool"), [
    (32, 3, 0, 2), (8, 3, 0, 2), (64, 3, 1, 2), (16, 5, 2, 2), (24, 7, 0, 2), (8, 7, 3, 2), (16, 3, 0, 1),
    (32, 3, 1, 3),
])
def test_matches_pytorch_forward_and_weight_gradient(small_data, channels, kernel, padding, pool):
    torch.manual_seed(channels + kernel)
    conv = nn.Conv2d(1, channels, kernel, padding=padding)
    images = as_input(small_data.train_images[:96])
    expected = _reference(images, conv, pool)
    upstream = torch.randn_like(expected)
    expected.backward(upstream)
    expected_grads = conv.weight.grad.clone(), conv.bias.grad.clone()
    conv.zero_grad()

    got = conv_kernels.FirstStage.apply(images, conv.weight, conv.bias, padding, pool)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()
    got.backward(upstream)
    for got_grad, want in zip((conv.weight.grad, conv.bias.grad), expected_grads, strict=True):
        assert torch.allclose(got_grad, want, rtol=1e-4, atol=1e-3 * want.abs().max().item())


@pytest.mark.parametrize(("in_channels", "out_channels", "kernel", "padding", "size"), [
    (32, 32, 3, 0, 13), (8, 16, 3, 1, 13), (16, 8, 5, 2, 11), (64, 64, 3, 0, 5), (24, 40, 7, 3, 9), (8, 8, 3, 0, 3),
])
def test_conv_weight_gradient_matches_pytorch(in_channels, out_channels, kernel, padding, size):
    torch.manual_seed(in_channels * out_channels + kernel)
    conv = nn.Conv2d(in_channels, out_channels, kernel, padding=padding)
    x = torch.randn(20, in_channels, size, size).contiguous(memory_format=torch.channels_last).requires_grad_()
    expected = conv(x)
    upstream = torch.randn_like(expected)
    expected.backward(upstream)
    want = conv.weight.grad.clone(), conv.bias.grad.clone(), x.grad.clone()
    conv.zero_grad()
    x.grad = None
    got = conv_kernels.KernelConv(conv, winograd=False)(x)
    assert torch.equal(got, expected.detach())  # the forward is PyTorch's own
    got.backward(upstream)
    for got_grad, expected_grad in zip((conv.weight.grad, conv.bias.grad, x.grad), want, strict=True):
        assert torch.allclose(got_grad, expected_grad, rtol=1e-4, atol=1e-4 * expected_grad.abs().max().item())


@pytest.mark.parametrize(("in_channels", "out_channels", "padding", "size"), [
    (32, 32, 0, 13), (16, 64, 1, 14), (64, 16, 0, 5), (32, 32, 1, 7), (16, 16, 0, 3), (16, 32, 2, 4),
])
def test_winograd_convolution_matches_pytorch(small_data, in_channels, out_channels, padding, size):
    torch.manual_seed(in_channels + out_channels + size)
    # the trainer holds CNN weights in channels-last memory too
    conv = nn.Conv2d(in_channels, out_channels, 3, padding=padding).to(memory_format=torch.channels_last)
    # real pictures' statistics: non-negative, mostly zeros at the border, like a ReLU layer's output
    pictures = as_input(small_data.train_images[:20 * in_channels])
    x = nn.functional.adaptive_avg_pool2d(pictures, size).reshape(20, in_channels, size, size)
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    expected = conv(x)
    upstream = torch.randn_like(expected)
    expected.backward(upstream)
    want = conv.weight.grad.clone(), conv.bias.grad.clone(), x.grad.clone()
    conv.zero_grad()
    x.grad = None

    got = conv_kernels.KernelConv(conv, winograd=True)(x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5 * expected.abs().max().item()), (got - expected).abs().max()
    got.backward(upstream)
    for got_grad, expected_grad in zip((conv.weight.grad, conv.bias.grad, x.grad), want, strict=True):
        assert torch.allclose(got_grad, expected_grad, rtol=1e-4, atol=1e-4 * expected_grad.abs().max().item())
    first = [grad.clone() for grad in (conv.weight.grad, conv.bias.grad, x.grad)]
    conv.zero_grad()
    x.grad = None
    conv_kernels.KernelConv(conv, winograd=True)(x).backward(upstream)
    assert all(torch.equal(a, b) for a, b in zip(first, (conv.weight.grad, conv.bias.grad, x.grad), strict=True))


@pytest.mark.parametrize(("in_channels", "out_channels", "padding", "size"), [
    (32, 32, 0, 13), (16, 64, 1, 14), (32, 16, 1, 7), (64, 32, 0, 5), (16, 16, 0, 4), (16, 16, 2, 5), (16, 16, 0, 7),
])
def test_winograd_with_pool_and_relu_matches_pytorch(small_data, in_channels, out_channels, padding, size):
    torch.manual_seed(in_channels * 3 + out_channels + size)
    conv = nn.Conv2d(in_channels, out_channels, 3, padding=padding).to(memory_format=torch.channels_last)
    pictures = as_input(small_data.train_images[:20 * in_channels])
    x = nn.functional.adaptive_avg_pool2d(pictures, size).reshape(20, in_channels, size, size)
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    expected = torch.relu(nn.functional.max_pool2d(conv(x), 2))  # the model's conv → pool → relu
    upstream = torch.randn_like(expected)
    expected.backward(upstream)
    want = conv.weight.grad.clone(), conv.bias.grad.clone(), x.grad.clone()
    conv.zero_grad()
    x.grad = None

    got = conv_kernels.KernelConv(conv, winograd=True, pool_relu=True)(x)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5 * expected.abs().max().item()), (got - expected).abs().max()
    got.backward(upstream)
    for got_grad, expected_grad in zip((conv.weight.grad, conv.bias.grad, x.grad), want, strict=True):
        assert torch.allclose(got_grad, expected_grad, rtol=1e-4, atol=1e-4 * expected_grad.abs().max().item())


def test_wrapped_model_gives_the_same_logits_and_every_gradient(small_data):
    spec = CNNSpec(conv_channels=(16, 32, 8), dense=32)
    model = build_model(spec).module.to(memory_format=torch.channels_last)  # as the trainer holds it
    runner = kernels.accelerated_module(model, spec, torch.device("cpu"))
    assert isinstance(runner, conv_kernels.FusedFirstStage)
    used = [layer.function for layer in runner.rest if isinstance(layer, conv_kernels.KernelConv)]
    # 16→32 by Winograd with its pool and ReLU folded in; 32→8 not
    assert used == [conv_kernels.WinogradConvPoolReLU, conv_kernels.ConvWeightGradByKernel]
    assert list(runner.parameters()) == list(model.parameters())  # one set of weights, trained once
    images, labels = as_input(small_data.train_images[:64]), small_data.train_labels[:64]

    def gradients(module):
        model.zero_grad()
        logits = module(images)
        nn.functional.cross_entropy(logits, labels).backward()
        return logits.detach(), [p.grad.clone() for p in model.parameters()]

    want_logits, want_grads = gradients(model)
    got_logits, got_grads = gradients(runner)
    assert torch.allclose(got_logits, want_logits, atol=1e-5)
    for got, want in zip(got_grads, want_grads, strict=True):
        assert torch.allclose(got, want, rtol=1e-4, atol=1e-4 * want.abs().max().item())


def test_inputs_the_kernel_does_not_take_go_through_the_model(small_data):
    spec = CNNSpec(conv_channels=(8,), dense=16)
    model = build_model(spec).module
    runner = kernels.accelerated_module(model, spec, torch.device("cpu"))
    images = as_input(small_data.test_images[:4]).requires_grad_()  # e.g. a saliency map's input gradient
    runner(images).sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert torch.allclose(runner(images), model(images))


def test_layers_it_cannot_fuse_stay_plain():
    # Outside the core's limits today, but the kernel's own conditions stay checked.
    for spec in (CNNSpec(conv_channels=(12, 8)), CNNSpec(conv_channels=(8,), kernel_size=9, padding=4)):
        assert not conv_kernels.fusable(spec)
    assert conv_kernels.fusable(CNNSpec())
    module = build_model(CNNSpec()).module
    assert kernels.accelerated_module(module, CNNSpec(), torch.device("cuda")) is module


@pytest.mark.slow
def test_training_with_and_without_the_kernel_agrees(small_data, monkeypatch):
    run = tiny_cnn_run(epochs=1, shuffle=True, seed=5)
    with_kernel = fit(run, small_data).history[0]
    monkeypatch.setenv("FMNIST_NATIVE", "0")
    without = fit(run, small_data).history[0]
    assert kernels.status().startswith("PyTorch operators (turned off by FMNIST_NATIVE=0")
    assert with_kernel.train_loss == pytest.approx(without.train_loss, rel=2e-3)
    assert with_kernel.val_acc == pytest.approx(without.val_acc, abs=0.01)


def test_no_compiler_means_pytorch_operators_and_a_reason(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("CC", shutil.which("false") or "/bin/false")
    monkeypatch.setattr(build, "_loaded", {})
    monkeypatch.setattr(build, "why_not", {})
    assert build.load_library("first_stage") is None
    assert "could not build first_stage.c" in build.why_not["first_stage"]
    spec = CNNSpec()
    module = build_model(spec).module
    assert kernels.accelerated_module(module, spec, torch.device("cpu")) is module
    assert kernels.status().startswith("PyTorch operators (could not build")


def test_built_library_is_cached_per_source_and_cpu(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(build, "_loaded", {})
    assert build.load_library("first_stage") is not None
    built = sorted((tmp_path / "fmnist-explorer" / "native").glob("first_stage-*.so"))
    assert len(built) == 1
    monkeypatch.setattr(build, "_loaded", {})
    stamp = built[0].stat().st_mtime_ns
    assert build.load_library("first_stage") is not None
    assert built[0].stat().st_mtime_ns == stamp  # loaded from the cache, not rebuilt


@pytest.mark.parametrize(("hidden", "smoothing", "batch", "chunk_size"), [
    ((128,), 0.0, 32, 32), ((64, 128), 0.1, 256, 128), ((16, 32, 512), 0.2, 37, 16), ((16,), 0.0, 1, 1),
])
def test_mlp_step_gives_pytorch_loss_right_answers_and_gradients(small_data, hidden, smoothing, batch, chunk_size):
    spec = MLPSpec(hidden=hidden)
    torch.manual_seed(len(hidden) + batch)
    model = build_model(spec).module
    runner = kernels.accelerated_module(model, spec, torch.device("cpu"))
    assert isinstance(runner, mlp.DenseStepRunner)
    images, labels = small_data.train_images, small_data.train_labels
    index = torch.randperm(len(images))[:batch]
    loss_fn = nn.CrossEntropyLoss(label_smoothing=smoothing)
    want_loss, want_right = 0.0, 0
    for chunk in index.split(chunk_size):
        logits = model(as_input(images[chunk]))
        loss = loss_fn(logits, labels[chunk])
        (loss * (len(chunk) / batch)).backward()
        want_loss += loss.item() * len(chunk)
        want_right += int((logits.argmax(dim=1) == labels[chunk]).sum())
    want = [parameter.grad.clone() for parameter in model.parameters()]
    model.zero_grad(set_to_none=True)
    loss_sum, right = torch.zeros(()), torch.zeros((), dtype=torch.long)
    for chunk in index.split(chunk_size):  # several chunks: the second and later add to the gradients
        runner.train_chunk(images, labels, chunk, 1 / batch, smoothing, loss_sum, right)
    assert loss_sum.item() == pytest.approx(want_loss, rel=1e-5)
    assert int(right) == want_right
    for got, expected in zip((parameter.grad for parameter in model.parameters()), want, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(("conv_channels", "padding", "dense", "smoothing", "batch", "chunk_size"), [
    ((32, 32), 0, 128, 0.0, 256, 128),  # the seed CNN in the bench's chunks
    ((16, 32, 64), 1, 128, 0.1, 37, 16),  # three layers with 'same' padding; a last chunk of 5
    ((64,), 0, 32, 0.2, 50, 50),  # one conv layer: the dense layer reads the first stage's map
    ((16, 16, 16, 16), 1, 512, 0.0, 20, 7),  # four layers, down to a 1×1 map
])
def test_cnn_chunk_gives_pytorch_loss_right_answers_and_gradients(small_data, conv_channels, padding, dense,
                                                                  smoothing, batch, chunk_size):
    spec = CNNSpec(conv_channels=conv_channels, padding=padding, dense=dense)
    torch.manual_seed(len(conv_channels) + batch)
    model = build_model(spec).module.to(memory_format=torch.channels_last)  # as the trainer holds it
    runner = kernels.accelerated_module(model, spec, torch.device("cpu"))
    images, labels = small_data.train_images, small_data.train_labels
    assert cnn_step.chunk_trainable(runner, images, labels)
    index = torch.randperm(len(images))[:batch]
    loss_fn = nn.CrossEntropyLoss(label_smoothing=smoothing)
    want_loss, want_right = 0.0, 0
    for chunk in index.split(chunk_size):
        logits = model(as_input(images[chunk], torch.channels_last))
        loss = loss_fn(logits, labels[chunk])
        (loss * (len(chunk) / batch)).backward()
        want_loss += loss.item() * len(chunk)
        want_right += int((logits.argmax(dim=1) == labels[chunk]).sum())
    want = [parameter.grad.clone() for parameter in model.parameters()]
    model.zero_grad(set_to_none=True)
    loss_sum, right = torch.zeros(()), torch.zeros((), dtype=torch.long)
    trainer = cnn_step.CNNChunkTrainer(runner, images, labels, smoothing)
    for _ in range(2):  # again on the same buffers: nothing carries over from the batch before
        assert trainer.train(index, index.split(chunk_size), loss_sum, right, None) is False
        assert loss_sum.item() == pytest.approx(want_loss, rel=1e-5)
        assert int(right) == want_right
        for parameter, expected in zip(model.parameters(), want, strict=True):
            assert parameter.grad.stride() == parameter.stride()  # the layout autograd hands the optimizer
            torch.testing.assert_close(parameter.grad, expected, rtol=1e-4, atol=1e-5 * expected.abs().max().item())
        loss_sum.zero_(), right.zero_()


def test_cnn_chunks_apply_only_to_the_shapes_they_compute(small_data):
    images, labels = small_data.train_images, small_data.train_labels

    def trainable(spec):
        runner = kernels.accelerated_module(build_model(spec).module.to(memory_format=torch.channels_last), spec,
                                            torch.device("cpu"))
        return cnn_step.chunk_trainable(runner, images, labels)

    assert trainable(CNNSpec()) and trainable(CNNSpec(conv_channels=(8,)))
    assert not trainable(CNNSpec(conv_channels=(8, 16)))  # 8 → 16: oneDNN's conv with the kernel's weight gradient
    assert not trainable(CNNSpec(kernel_size=5))  # a 5×5 later layer: no Winograd
    runner = kernels.accelerated_module(build_model(CNNSpec()).module, CNNSpec(), torch.device("cpu"))
    assert not cnn_step.chunk_trainable(runner, images.float(), labels)  # images the kernel does not read
    runner.kernels_on = False  # after a fall-back
    assert not cnn_step.chunk_trainable(runner, images, labels)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_cnn_training_by_chunks_agrees_with_autograd(small_data, monkeypatch, optimizer):
    run = RunSpec(CNNSpec(conv_channels=(16, 32)), TrainConfig(epochs=2, batch_size=256, lr=3e-3, shuffle=True,
                                                               optimizer=optimizer, label_smoothing=0.1,
                                                               schedule="onecycle"))
    trained, chunk_sizes = [], set()
    kernel_train = cnn_step.CNNChunkTrainer.train

    def counted(self, index, chunks, *args):
        trained.append(len(index))
        chunk_sizes.update(len(chunk) for chunk in chunks)
        return kernel_train(self, index, chunks, *args)

    monkeypatch.setattr(cnn_step.CNNChunkTrainer, "train", counted)
    with_chunks = fit(run, small_data)
    assert sum(trained) == 2 * len(small_data.train_images)  # every image of both epochs
    # its own chunk size, not autograd's: a batch of 256 is one chunk (6,000 images leave a last batch of 112)
    assert chunk_sizes == {256, 112} and cnn_step.CHUNK_SIZE == 256 > training.CPU_MICRO_BATCH
    monkeypatch.setenv("FMNIST_NATIVE", "0")
    without = fit(run, small_data)
    for got, expected in zip(with_chunks.history, without.history, strict=True):
        assert got.train_loss == pytest.approx(expected.train_loss, rel=2e-3)
        assert got.val_acc == pytest.approx(expected.val_acc, abs=0.005)


@pytest.mark.parametrize(("batch_size", "optimizer"), [(256, "adam"), (32, "adam"), (32, "sgd")])
def test_mlp_training_with_and_without_the_kernel_agrees(small_data, monkeypatch, batch_size, optimizer):
    # batch 256: two chunks a batch, gradients by the kernel and torch's Adam; batch 32: one chunk, its Adam step
    # in the same C call; SGD: one chunk, torch's SGD
    run = tiny_mlp_run(epochs=2, shuffle=True, seed=3, label_smoothing=0.1, schedule="onecycle",
                       batch_size=batch_size, optimizer=optimizer)
    calls = {"train_chunk": [], "adam_step": []}
    kernel_chunk, kernel_stepper = mlp.DenseStepRunner.train_chunk, mlp.DenseStepRunner.adam_stepper
    monkeypatch.setattr(mlp.DenseStepRunner, "train_chunk",
                        lambda self, *args: calls["train_chunk"].append(len(args[2])) or kernel_chunk(self, *args))

    def counted_stepper(self, optimizer):
        step = kernel_stepper(self, optimizer)
        return None if step is None else lambda *args: calls["adam_step"].append(len(args[2])) or step(*args)

    monkeypatch.setattr(mlp.DenseStepRunner, "adam_stepper", counted_stepper)
    with_kernel = fit(run, small_data)
    # every image of both epochs went through a kernel, and batches of one chunk took their Adam step there
    assert sum(calls["train_chunk"]) + sum(calls["adam_step"]) == 2 * len(small_data.train_images)
    count = len(small_data.train_images)
    one_chunk_images = sum(min(batch_size, count - start) for start in range(0, count, batch_size)
                           if min(batch_size, count - start) <= training.CPU_MICRO_BATCH)
    assert sum(calls["adam_step"]) == (2 * one_chunk_images if optimizer == "adam" else 0)
    monkeypatch.setenv("FMNIST_NATIVE", "0")
    without = fit(run, small_data)
    for got, expected in zip(with_kernel.history, without.history, strict=True):
        assert got.train_loss == pytest.approx(expected.train_loss, rel=1e-4)
        assert got.train_acc == pytest.approx(expected.train_acc, abs=2e-3)
    for got, expected in zip(with_kernel.model.module.parameters(), without.model.module.parameters(), strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-3, atol=1e-4)


def test_mlp_runner_evaluates_like_the_model_and_is_left_out_without_a_blas(small_data, monkeypatch):
    spec = MLPSpec(hidden=(32,))
    model = build_model(spec).module
    runner = kernels.accelerated_module(model, spec, torch.device("cpu"))
    images = as_input(small_data.test_images[:50])
    assert torch.equal(runner(images), model(images))
    assert kernels.accelerated_module(model, spec, torch.device("cuda")) is model
    monkeypatch.setattr(bindings, "_sgemm", [None])
    assert kernels.accelerated_module(model, spec, torch.device("cpu")) is model
    assert "no MLP steps: PyTorch's CPU library exports no sgemm_ here" in kernels.status()


@pytest.mark.parametrize("make_run", [lambda: tiny_cnn_run(epochs=2, batch_size=256),
                                      lambda: tiny_mlp_run(epochs=2, batch_size=32)])
def test_a_failing_kernel_hands_the_run_to_pytorchs_operators_instead_of_failing_it(small_data, monkeypatch,
                                                                                    capfd, make_run):
    """FMNIST_KERNEL_FAULT=N fails the Nth kernel call of the process, as a refused shape or a failed allocation
    would: the run goes on with PyTorch's operators and ends where a run without kernels ends."""
    run = make_run()
    monkeypatch.setattr(bindings, "_calls", [0])
    monkeypatch.setenv("FMNIST_KERNEL_FAULT", "7")  # mid-way through the first epoch
    with_fault = fit(run, small_data)
    assert "C kernel failed" in capfd.readouterr().err
    monkeypatch.setenv("FMNIST_NATIVE", "0")
    monkeypatch.delenv("FMNIST_KERNEL_FAULT")
    plain = fit(run, small_data)
    assert len(with_fault.history) == 2 and not with_fault.cancelled
    # the same training up to the kernels' rounding: the failed batch was done again, not skipped or doubled
    for got, expected in zip(with_fault.history, plain.history, strict=True):
        assert got.val_acc == pytest.approx(expected.val_acc, abs=0.005)
        assert got.train_loss == pytest.approx(expected.train_loss, rel=2e-3)


@pytest.fixture
def distrust(monkeypatch):
    """FMNIST_DISTRUST=names for one test: those private entry points fail their checks."""
    from fmnist_core.entry_points import forget_checks

    def set_distrusted(names: str) -> None:
        monkeypatch.setenv("FMNIST_DISTRUST", names)
        forget_checks()

    yield set_distrusted
    monkeypatch.delenv("FMNIST_DISTRUST", raising=False)
    forget_checks()


@pytest.mark.parametrize("entry_point, run_of", [
    ("sgemm", lambda: RunSpec(MLPSpec(hidden=(64,)), TrainConfig(epochs=2, lr=3e-3, batch_size=128))),
    ("fused_adam", lambda: RunSpec(CNNSpec(conv_channels=(8,), dense=32), TrainConfig(epochs=2, lr=3e-3))),
])
def test_a_private_entry_point_that_fails_its_check_means_the_public_path_and_the_same_training(
        small_data, distrust, entry_point, run_of):
    """#25: a torch upgrade that drops (or changes) a private entry point only slows training."""
    from fmnist_core.entry_points import trusted
    from fmnist_core.optimizers import Optimizer

    run = run_of()
    trusting = fit(run, small_data)
    distrust(entry_point)
    assert not trusted(entry_point)
    if entry_point == "sgemm":
        assert bindings.blas_sgemm() is None and "no MLP steps" in kernels.status()
    else:
        assert not Optimizer([torch.zeros(2, requires_grad=True)], "adam").fused
    public = fit(run, small_data)
    assert not public.cancelled and len(public.history) == 2
    for got, expected in zip(public.history, trusting.history, strict=True):
        assert got.val_acc == pytest.approx(expected.val_acc, abs=0.005)
        assert got.train_loss == pytest.approx(expected.train_loss, rel=2e-3)


def test_a_torch_without_the_fused_adam_trains_on_the_public_adam(small_data, distrust, monkeypatch):
    """The entry point gone (as a torch upgrade may do), not only distrusted: its check fails, nothing raises."""
    from fmnist_core.entry_points import forget_checks, trusted
    from fmnist_core.optimizers import Optimizer

    run = RunSpec(CNNSpec(conv_channels=(8,), dense=32), TrainConfig(epochs=1, lr=3e-3))
    with_it = fit(run, small_data)
    monkeypatch.delattr(torch, "_fused_adam_")
    forget_checks()
    assert not trusted("fused_adam")
    assert not Optimizer([torch.zeros(2, requires_grad=True)], "adam").fused
    without = fit(run, small_data)
    assert without.history[0].val_acc == pytest.approx(with_it.history[0].val_acc, abs=0.005)


def test_the_checks_compare_against_the_public_operators():
    from fmnist_core.entry_points import _CHECKS

    assert set(_CHECKS) >= {"sgemm", "fused_adam"}
    assert all(check() for check in _CHECKS.values())  # on this machine both agree (else the tests above say so)


def test_any_error_on_the_kernel_path_falls_back_not_only_kernel_errors(small_data, monkeypatch, capfd):
    """Only KernelError used to trigger the fall-back: a missing symbol or a wrong shape failed the run."""
    from fmnist_core.kernels import conv

    run = RunSpec(CNNSpec(conv_channels=(8,), dense=32), TrainConfig(epochs=1, lr=3e-3))
    calls = [0]
    original = conv.FusedFirstStage.forward

    def broken_once(self, images):
        calls[0] += 1
        if calls[0] == 3:
            raise AttributeError("symbol first_stage_forward not found")  # not a KernelError
        return original(self, images)

    monkeypatch.setattr(conv.FusedFirstStage, "forward", broken_once)
    result = fit(run, small_data)
    assert not result.cancelled and result.history[0].val_acc > 0.6
    assert "C kernel failed (symbol first_stage_forward not found)" in capfd.readouterr().err


def test_the_training_loop_knows_no_kernel():
    """The loop reads like pytorch/examples: model, step, data, callbacks; the kernels are behind one door."""
    import inspect
    import re

    from fmnist_core import training

    loop = "".join(inspect.getsource(function).replace(function.__doc__ or "", "")
                   for function in (training.train_one_epoch, training.train_batch))
    assert "kernel" not in loop
    assert set(re.findall(r"kernels\.(\w+)\(", inspect.getsource(training))) == {"accelerate"}


def _kernel_library(name, *defines):
    """The kernel library `name` built with `defines`, loaded on its own (not the one the trainer uses)."""
    import ctypes

    library = ctypes.CDLL(str(build._build(name, build._compiler(), defines)))
    for function, (arguments, result) in bindings.SIGNATURES[name].items():
        getattr(library, function).argtypes, getattr(library, function).restype = arguments, result
    return library


def _address(tensor):
    return tensor.data_ptr()


@pytest.mark.parametrize(("in_channels", "out_channels", "padding", "size"), [
    (32, 32, 0, 13), (16, 64, 1, 14), (64, 16, 2, 5), (16, 16, 0, 4),
])
def test_winograd_gives_the_same_numbers_with_and_without_avx512(small_data, in_channels, out_channels, padding,
                                                                  size):
    """Where -march=native has AVX-512 the Winograd kernel works 16 floats at a time, elsewhere 8: the 8-wide
    build (FMNIST_NO_AVX512) that other CPUs run must give the same numbers as the one this CPU runs (on a CPU
    without AVX-512 both are the 8-wide code)."""
    address = _address
    torch.manual_seed(size)
    pictures = as_input(small_data.train_images[:8 * in_channels])
    x = nn.functional.adaptive_avg_pool2d(pictures, size).reshape(8, in_channels, size, size)
    x = x.permute(0, 2, 3, 1).contiguous()  # channels last, as the kernel takes it
    weight = torch.randn(out_channels, in_channels, 3, 3)
    bias = torch.randn(out_channels)
    out_size = size + 2 * padding - 2
    upstream = torch.randn(8, out_size, out_size, out_channels)
    results = []
    for library in (_kernel_library("winograd"), _kernel_library("winograd", "-DFMNIST_NO_AVX512")):
        points = library.winograd_points()
        forward_filters = torch.empty(points, in_channels, out_channels)
        library.winograd_filter(address(weight), address(forward_filters), in_channels, out_channels, 0)
        backward_filters = torch.empty(points, out_channels, in_channels)
        library.winograd_filter(address(weight), address(backward_filters), in_channels, out_channels, 1)
        y = torch.empty(8, out_size, out_size, out_channels)
        pooled = torch.empty(8, out_size // 2, out_size // 2, out_channels)
        choice = torch.empty(pooled.shape, dtype=torch.int32)
        grad_input = torch.empty(8, size, size, in_channels)
        grad_weight, grad_bias = torch.empty_like(weight), torch.zeros_like(bias)
        shape = (8, size, size, in_channels, out_channels, padding, 2)
        assert library.winograd_forward(address(x), address(forward_filters), address(bias), address(y),
                                        *shape[:-1], out_size, out_size, 2) == 0
        assert library.winograd_forward_pool_relu(address(x), address(forward_filters), address(bias),
                                                  address(pooled), address(choice), *shape) == 0
        assert library.winograd_forward(address(upstream), address(backward_filters), None, address(grad_input),
                                        8, out_size, out_size, out_channels, in_channels, 2 - padding, size, size,
                                        2) == 0
        assert library.winograd_weight_grad(address(x), address(upstream), address(grad_weight),
                                            address(grad_bias), *shape) == 0
        # the pool's gradient writes every output, an odd size's last row and column too: none left as it was
        pooled_grad = upstream[:, :out_size // 2, :out_size // 2].contiguous()
        conv_grad = torch.full((8, out_size, out_size, out_channels), float("nan"))
        assert library.pool_relu_backward(address(pooled_grad), address(pooled), address(choice),
                                          address(conv_grad), 8, out_size, out_size, out_channels, 2) == 0
        assert not conv_grad.isnan().any()
        results.append((y, pooled, choice, grad_input, grad_weight, grad_bias, conv_grad))
    expected = nn.functional.conv2d(x.permute(0, 3, 1, 2), weight, bias, padding=padding).permute(0, 2, 3, 1)
    assert torch.allclose(results[0][0], expected, atol=1e-4 * expected.abs().max().item())
    for wide, narrow in zip(*results, strict=True):
        assert torch.equal(wide, narrow), (wide.float() - narrow.float()).abs().max()


@pytest.mark.parametrize(("channels", "kernel", "padding", "pool"), [
    (32, 3, 0, 2), (8, 3, 0, 2), (16, 5, 2, 2), (24, 7, 0, 2), (64, 3, 1, 3),
])
def test_first_stage_gives_the_same_numbers_with_and_without_avx512(small_data, channels, kernel, padding, pool):
    """The first stage takes 16 channels at a time where AVX-512 is there and the count allows it (8 and 24
    filters stay 8 at a time): the same numbers as the 8-wide build."""
    torch.manual_seed(channels + kernel)
    images = as_input(small_data.train_images[:40])[:, 0].contiguous()
    taps = torch.randn(kernel * kernel, channels)
    bias = torch.randn(channels)
    size = (28 + 2 * padding - kernel + 1) // pool
    upstream = torch.randn(40, size, size, channels)
    shape = (40, 28, 28, channels, kernel, padding, pool, 2)
    results = []
    for library in (_kernel_library("first_stage"), _kernel_library("first_stage", "-DFMNIST_NO_AVX512")):
        output = torch.empty(40, size, size, channels)
        choice = torch.empty(output.shape, dtype=torch.int32)
        sums = torch.empty((kernel * kernel + 1) * channels)
        assert library.first_stage_forward(_address(images), _address(taps), _address(bias), _address(output),
                                           _address(choice), *shape) == 0
        assert library.first_stage_backward(_address(images), _address(output), _address(choice),
                                            _address(upstream), _address(sums), *shape) == 0
        results.append((output, choice, sums))
    assert results[0][0].abs().sum() > 0
    for wide, narrow in zip(*results, strict=True):
        assert torch.equal(wide, narrow), (wide.float() - narrow.float()).abs().max()


@pytest.mark.parametrize(("size", "padding"), [(3, 0), (1, 1)])
def test_winograd_with_pool_refuses_a_map_too_small_to_pool(size, padding):
    """A conv output of one row or column has no whole 2×2 window: the kernel says so (and the trainer falls back
    to PyTorch, which refuses it in its own words) instead of writing through an empty output. Specs never ask
    for it (CNNSpec.check refuses a pool larger than its map)."""
    conv = nn.Conv2d(16, 16, 3, padding=padding).to(memory_format=torch.channels_last)
    x = torch.rand(4, 16, size, size).contiguous(memory_format=torch.channels_last)
    with pytest.raises(bindings.KernelError):
        conv_kernels.KernelConv(conv, winograd=True, pool_relu=True)(x)


def test_the_pools_gradient_refuses_channels_it_does_not_write_whole():
    """It writes 16 channels (or 8) at a time: another count would leave some outputs unwritten."""
    pooled = torch.rand(2, 3, 3, 8)
    choice = torch.zeros(pooled.shape, dtype=torch.int32)
    conv_grad = torch.empty(2, 6, 6, 8)
    with pytest.raises(bindings.KernelError):
        bindings.call("winograd", "pool_relu_backward", bindings.address(pooled), bindings.address(pooled),
                      bindings.address(choice), bindings.address(conv_grad), 2, 6, 6, 8, 1)


def test_the_chunk_size_is_the_chunk_trainers_only_where_it_will_train(small_data, distrust):
    spec = CNNSpec()
    optimizer_of = training.optimizers.Optimizer

    def step():
        model = build_model(spec).module.to(memory_format=torch.channels_last)
        plain = training.PlainStep(model, optimizer_of(model.parameters(), "adam"), nn.CrossEntropyLoss(),
                                   lambda _: None, torch.channels_last)
        return kernels.accelerate(plain, spec, torch.device("cpu"))

    assert step().chunk_size == cnn_step.CHUNK_SIZE
    distrust("sgemm")  # no BLAS for the dense layers: autograd trains, in its own chunks
    assert step().chunk_size == training.CPU_MICRO_BATCH


def test_cnn_chunks_take_any_index_tensor(small_data):
    spec = CNNSpec(conv_channels=(16, 16))
    model = build_model(spec).module.to(memory_format=torch.channels_last)
    runner = kernels.accelerated_module(model, spec, torch.device("cpu"))
    images, labels = small_data.train_images, small_data.train_labels
    trainer = cnn_step.CNNChunkTrainer(runner, images, labels, 0.0)
    index = torch.randperm(len(images))[:64]
    grads = []
    for chunks in ((index,), (index.to(torch.int32),), (torch.stack([index, index], dim=1)[:, 0],)):
        sums = torch.zeros(()), torch.zeros((), dtype=torch.long)
        trainer.train(index, chunks, *sums, None)
        grads.append([parameter.grad.clone() for parameter in model.parameters()])
    assert not chunks[0].is_contiguous()  # the last: every other element of a bigger tensor
    for other in grads[1:]:
        for got, expected in zip(other, grads[0], strict=True):
            assert torch.equal(got, expected)


def test_cnn_chunk_maps_grow_for_a_longer_chunk(small_data):
    """Maps are kept for the longest chunk seen; a longer one later gets new maps, and the same gradients as a
    trainer that never saw the short one."""
    spec = CNNSpec(conv_channels=(16, 32))
    model = build_model(spec).module.to(memory_format=torch.channels_last)
    runner = kernels.accelerated_module(model, spec, torch.device("cpu"))
    images, labels = small_data.train_images, small_data.train_labels
    short, long = torch.arange(10), torch.arange(100, 164)
    sums = torch.zeros(()), torch.zeros((), dtype=torch.long)
    grown = cnn_step.CNNChunkTrainer(runner, images, labels, 0.1)
    grown.train(short, (short,), *sums, None)
    grown.train(long, (long,), *sums, None)
    after_growing = [parameter.grad.clone() for parameter in model.parameters()]
    cnn_step.CNNChunkTrainer(runner, images, labels, 0.1).train(long, (long,), *sums, None)
    for got, expected in zip(after_growing, (parameter.grad for parameter in model.parameters()), strict=True):
        assert torch.equal(got, expected)
