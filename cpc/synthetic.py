"""Synthetic signals for tests, benchmarks and smoke runs: predictable, at the scale of speech."""

from __future__ import annotations

import math

import torch


def tone_segments(
    batch: int,
    samples: int,
    *,
    rms: float = 0.1,
    min_len: int = 400,
    max_len: int = 1600,
    sample_rate: int = 16000,
    channels: int = 0,
    seed: int = 0,
) -> torch.Tensor:
    """Sinusoids whose frequency (log-uniform 150-4000 Hz) changes every 25-100 ms.

    Within a segment the future is predictable from the past; across segments it is not.
    Scaled to ``rms`` (speech waveforms sit near 0.1). Shape (batch, samples), or
    (batch, channels, samples) with a per-channel phase shift when ``channels`` > 0.
    """
    g = torch.Generator().manual_seed(seed)
    out = torch.empty(batch, max(channels, 1), samples)
    for b in range(batch):
        pos = 0
        while pos < samples:
            n = int(torch.randint(min_len, max_len + 1, (1,), generator=g))
            f = math.exp(math.log(150) + (math.log(4000) - math.log(150)) * float(torch.rand(1, generator=g)))
            t = torch.arange(min(n, samples - pos)) / sample_rate
            for ch in range(out.shape[1]):
                out[b, ch, pos : pos + n] = torch.sin(2 * math.pi * f * t + ch * 0.7)
            pos += n
    out = out + 0.01 * torch.randn(out.shape, generator=g)
    out = out * (rms / out.pow(2).mean().sqrt())
    return out if channels else out[:, 0]
