"""Small models for the tests of cairn.torch's checkpoint_sequential and GraphModule: chains of
unequal widths, a U-Net of blocks, and the comparison with plain autograd."""
from typing import List, Sequence, Tuple

import torch
from torch import nn


def mlp(widths: Sequence[int], dtype: torch.dtype) -> nn.Sequential:
    """Linear + tanh layers (tanh saves its output: the profile says its tape keeps it)."""
    layers = [nn.Sequential(nn.Linear(a, b), nn.Tanh()) for a, b in zip(widths, widths[1:])]
    return nn.Sequential(*layers).to(dtype)


def exact_mlp(widths: Sequence[int], dtype: torch.dtype) -> nn.Sequential:
    """tanh + Linear layers: every tensor the backward keeps is a storage of its own that the
    model counts once (the tape is tanh's output, the output is saved by nobody), so the
    executor's live bytes are exactly what check_plan() predicts."""
    layers = [nn.Sequential(nn.Tanh(), nn.Linear(a, b)) for a, b in zip(widths, widths[1:])]
    return nn.Sequential(*layers).to(dtype)


class Residual(nn.Module):
    """A ResNet-like block between unequal widths: proj(x) + f(x)."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__()
        self.f = nn.Sequential(nn.Linear(a, 2 * b), nn.ReLU(), nn.Linear(2 * b, b))
        self.proj = nn.Linear(a, b, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.proj(x) + self.f(x))


def resnet_chain(widths: Sequence[int], dtype: torch.dtype) -> nn.Sequential:
    return nn.Sequential(*[Residual(a, b) for a, b in zip(widths, widths[1:])]).to(dtype)


def conv(a: int, b: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(a, b, 3, padding=1), nn.Tanh())


class Up(nn.Module):
    """Upsamples the deeper input, concatenates the skip, convolves."""

    def __init__(self, a: int, skip: int, b: int) -> None:
        super().__init__()
        self.conv = conv(a + skip, b)

    def forward(self, deep: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up = nn.functional.interpolate(deep, scale_factor=2.0, mode="nearest")
        return self.conv(torch.cat([up, skip], dim=1))


class Down(nn.Module):
    def __init__(self, a: int, b: int) -> None:
        super().__init__()
        self.conv = conv(a, b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.max_pool2d(x, 2))


def unet_blocks(channels: int = 2, width: int = 4, dtype: torch.dtype = torch.float64
                ) -> List[Tuple[str, nn.Module, List[str]]]:
    """A 3-level U-Net as GraphModule blocks."""
    w = width
    blocks = [
        ("enc1", conv(channels, w), []),
        ("enc2", Down(w, 2 * w), ["enc1"]),
        ("mid", Down(2 * w, 4 * w), ["enc2"]),
        ("dec2", Up(4 * w, 2 * w, 2 * w), ["mid", "enc2"]),
        ("dec1", Up(2 * w, w, w), ["dec2", "enc1"]),
        ("head", nn.Conv2d(w, 1, 1), ["dec1"]),
    ]
    return [(n, m.to(dtype), i) for n, m, i in blocks]


class UNet(nn.Module):
    """The same U-Net as one module, for torch.fx."""

    def __init__(self, channels: int = 2, width: int = 4) -> None:
        super().__init__()
        w = width
        self.enc1, self.enc2 = conv(channels, w), Down(w, 2 * w)
        self.mid = Down(2 * w, 4 * w)
        self.dec2, self.dec1 = Up(4 * w, 2 * w, 2 * w), Up(2 * w, w, w)
        self.head = nn.Conv2d(w, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        return self.head(self.dec1(self.dec2(self.mid(e2), e2), e1))


def gradients(model: nn.Module, x: torch.Tensor, run, weights: torch.Tensor
              ) -> List[torch.Tensor]:
    """d(sum(weights * run(x)))/d(x, every parameter), from a clean state."""
    x = x.detach().clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    (run(x) * weights).sum().backward()
    grads = [x.grad] + [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads), "a parameter got no gradient"
    return [g.clone() for g in grads]


def max_relative_error(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    return max(float((u - v).abs().max() / v.abs().max().clamp_min(1e-300))
               for u, v in zip(a, b))
