"""Where the model looked: a heat map over a 28×28 image of the pixels that mattered for one class. Occlusion
sensitivity (grey out a patch, see how much the class's probability drops; the same for an MLP and a CNN, so the
two compare on one image) and Grad-CAM (the last conv layer's maps, weighted by how much the class's score depends
on each; CNNs only). Both return (28, 28) in [0, 1]; `heat_summary` says in words where the heat is."""
from __future__ import annotations

import threading

import torch

from .images import REGIONS
from .models import BuiltModel

OCCLUSION_PATCH = 6  # pixels per side of the grey square (a garment's part: a sleeve, a heel)
OCCLUSION_STRIDE = 2
OCCLUSION_FILL = 0.0  # the background of Fashion-MNIST images
# One loaded model serves every session (each in its own thread); Grad-CAM's hooks must not see another's pass.
_GRADCAM_LOCK = threading.Lock()


def _normalised(heat: torch.Tensor) -> torch.Tensor:
    heat = heat.clamp(min=0)
    peak = heat.max()
    return heat / peak if peak > 0 else heat


@torch.inference_mode()
def occlusion_map(model: BuiltModel, image: torch.Tensor, target: int, patch: int = OCCLUSION_PATCH,
                  stride: int = OCCLUSION_STRIDE) -> torch.Tensor:
    """How much the probability of class `target` drops when each part of `image` (1, 28, 28) is hidden under a
    patch×patch square, averaged over the squares that cover each pixel: (28, 28), the largest drop 1."""
    module = model.module.eval()
    size = image.shape[-1]
    baseline = module(image.unsqueeze(0)).softmax(dim=1)[0, target]
    corners = [(top, left) for top in range(0, size - patch + 1, stride) for left in range(0, size - patch + 1, stride)]
    hidden = image.repeat(len(corners), 1, 1, 1)  # (P, 1, 28, 28): every occluded copy in one batch
    for index, (top, left) in enumerate(corners):
        hidden[index, :, top:top + patch, left:left + patch] = OCCLUSION_FILL
    drops = baseline - module(hidden).softmax(dim=1)[:, target]
    heat = torch.zeros(size, size)
    covered = torch.zeros(size, size)
    for drop, (top, left) in zip(drops, corners, strict=True):
        heat[top:top + patch, left:left + patch] += drop
        covered[top:top + patch, left:left + patch] += 1
    return _normalised(heat / covered.clamp(min=1))


def grad_cam(model: BuiltModel, image: torch.Tensor, target: int) -> torch.Tensor:
    """Grad-CAM on the last conv layer (after its ReLU, as the maps a student sees): each map weighted by the mean
    gradient of class `target`'s score over it, summed, ReLU, upsampled to the image: (28, 28), the peak 1.
    ValueError for a model without conv layers."""
    if not model.conv_layers:
        raise ValueError("Grad-CAM needs a conv layer; use occlusion for an MLP")
    layer = model.conv_layers[-1]
    module = model.module.eval()
    captured: dict[str, torch.Tensor] = {}
    this_thread = threading.get_ident()

    def keep(_module, _inputs, output):
        # the model is shared by every session: another student's forward pass (a prediction, under
        # inference_mode) runs through this hook too while it is registered, and must pass untouched
        if threading.get_ident() == this_thread:
            captured["maps"] = output

    with _GRADCAM_LOCK, torch.enable_grad():
        handle = module.get_submodule(layer.hook_module).register_forward_hook(keep)
        try:
            logits = module(image.unsqueeze(0).requires_grad_(False))
        finally:
            handle.remove()
        maps = captured["maps"]
        score = logits[0, target]
        gradients = torch.autograd.grad(score, maps)[0]  # (1, C, H, W)
    rectified = maps.detach().relu() if layer.relu else maps.detach()
    # the maps' gradient through ReLU is zero where a map is zero: weights from the conv output's gradient
    weights = gradients.mean(dim=(2, 3), keepdim=True)
    cam = (weights * rectified).sum(dim=1, keepdim=True).relu()  # (1, 1, H, W)
    upsampled = torch.nn.functional.interpolate(cam, size=image.shape[-2:], mode="bilinear", align_corners=False)
    return _normalised(upsampled[0, 0])


def heat_summary(heat: torch.Tensor, share: float = 0.5) -> tuple[str, float]:
    """Where the heat is, for a text alternative: the region (images.REGIONS, a third by a third) of its centre of
    mass, and the share of the image's area that holds `share` of the heat (small: the model looked at one spot)."""
    total = heat.sum()
    if total <= 0:
        return "centre", 1.0
    rows = torch.arange(heat.shape[0], dtype=torch.float32)
    columns = torch.arange(heat.shape[1], dtype=torch.float32)
    centre_row = float((heat.sum(dim=1) * rows).sum() / total)
    centre_column = float((heat.sum(dim=0) * columns).sum() / total)
    third = heat.shape[0] / 3
    ordered = heat.flatten().sort(descending=True).values
    needed = int((ordered.cumsum(0) < share * total).sum()) + 1
    return REGIONS[min(2, int(centre_row // third)) * 3 + min(2, int(centre_column // third))], needed / heat.numel()
