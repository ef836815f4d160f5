"""g_enc: a strided 1-D convolution stack from samples to latent frames z.

The stack is causal: the input is left-padded once with ``receptive_field - stride`` zeros and
every convolution is unpadded, so frame t depends on samples ``[(t+1)*stride - receptive_field,
(t+1)*stride)`` only and ``frames = samples // stride`` exactly.  The per-frame norm normalises
over channels at each frame (no batch or time statistics), so training and evaluation modes are
both causal, and the signal can be encoded in chunks (:meth:`ConvEncoder.step`) with the same
result as encoding it whole.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from .config import EncoderConfig


class ChannelNorm(nn.Module):
    """Normalise each frame over its channels, with a learned per-channel affine.

    x: (batch, channels, frames) -> (batch, channels, frames)
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(1, channels, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        var, mean = torch.var_mean(x, dim=1, keepdim=True, unbiased=False)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


class ConvEncoder(nn.Module):
    """Strided convolutions, each followed by a per-frame norm and a ReLU.

    x: (batch, samples) or (batch, channels, samples) -> z: (batch, samples // stride, dim)
    """

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = []
        c_in = cfg.in_channels
        for k, s in zip(cfg.kernels, cfg.strides):
            # No conv bias: the norm that follows has its own, and a bias before the norm
            # drowns a small input at initialisation (the encoder then collapses to a constant).
            layers.append(nn.Conv1d(c_in, cfg.channels, k, stride=s, bias=cfg.norm == "none"))
            if cfg.norm == "channel":
                layers.append(ChannelNorm(cfg.channels))
            layers.append(nn.ReLU())
            c_in = cfg.channels
        self.layers = nn.Sequential(*layers)
        if cfg.norm == "channel":
            # Measured on the default model, tones at rms 0.1, Adam 1e-3: at PyTorch's init the
            # second conv's weights (|w| ~ 0.009) move ~10% a step, every frame's z becomes the
            # same vector within 30 steps and the loss stays at ln(1 + negatives); at 10x the
            # init, step-1 accuracy reaches 92% in 100 steps (bench/README.md).
            with torch.no_grad():
                for m in self.layers:
                    if isinstance(m, nn.Conv1d):
                        m.weight.mul_(cfg.init_scale)

    @property
    def stride(self) -> int:
        """Input samples per frame."""
        return self.cfg.stride

    @property
    def receptive_field(self) -> int:
        """Input samples that one frame depends on."""
        return self.cfg.receptive_field

    @property
    def history(self) -> int:
        """Past samples beyond its own hop that a frame needs (the left padding)."""
        return self.receptive_field - self.stride

    @property
    def dim(self) -> int:
        return self.cfg.channels

    def _as_channels(self, x: Tensor) -> Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(1)
        if x.dim() != 3:
            raise ValueError(
                f"expected input of shape (batch, samples) or (batch, channels, samples), "
                f"got {tuple(x.shape)}"
            )
        if x.shape[1] != self.cfg.in_channels:
            raise ValueError(
                f"expected {self.cfg.in_channels} input channel(s) (encoder.in_channels), "
                f"got input of shape {tuple(x.shape)}"
            )
        return x

    def _convolve(self, x: Tensor) -> Tensor:
        if self.cfg.input_gain != 1.0:
            x = x * self.cfg.input_gain
        return rearrange(self.layers(x), "b d t -> b t d")

    def forward(self, x: Tensor) -> Tensor:
        """x: (batch, samples) or (batch, channels, samples) -> z: (batch, samples // stride, dim)."""
        x = self._as_channels(x)
        if x.shape[-1] < self.stride:
            raise ValueError(
                f"input of {x.shape[-1]} samples is shorter than one frame ({self.stride} samples)"
            )
        return self._convolve(F.pad(x, (self.history, 0)))

    def initial_state(self, x: Tensor) -> Tensor:
        """The state before the first chunk: ``history`` zero samples, like the left padding."""
        x = self._as_channels(x)
        return x.new_zeros(x.shape[0], x.shape[1], self.history)

    def step(self, x: Tensor, state: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
        """Encode one chunk of a longer signal.

        x: (batch, [channels,] chunk) with any chunk length; state: the samples carried from the
        previous call (None at the start). Returns z for every frame completed by this chunk,
        (batch, frames, dim) with frames possibly 0, and the new state. Concatenating the z of
        all chunks gives ``forward`` of the whole signal.
        """
        x = self._as_channels(x)
        if state is None:
            state = self.initial_state(x)
        buf = torch.cat([state, x], dim=-1)
        n_frames = (buf.shape[-1] - self.history) // self.stride
        used = self.history + n_frames * self.stride
        if n_frames > 0:
            z = self._convolve(buf[..., :used])
        else:
            z = x.new_zeros(x.shape[0], 0, self.dim)
        # Keep the history of the next frame plus the samples of its incomplete hop.
        return z, buf[..., used - self.history :]
