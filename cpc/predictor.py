"""The W_k: one bilinear map per prediction step, applied to every context in one matmul."""

from __future__ import annotations

import torch
from einops import rearrange
from torch import Tensor, nn

from .config import PredictorConfig


class LinearPredictor(nn.Module):
    """predictions[b, t, k-1] = W_k c[b, t] for k = 1..K.

    c: (batch, frames, dim_c) -> (batch, frames, K, dim_z)
    """

    def __init__(self, cfg: PredictorConfig, dim_c: int, dim_z: int):
        super().__init__()
        self.n_steps = cfg.n_steps
        # The K matrices stacked into one (K * dim_z, dim_c) weight: a single matmul.
        self.weight = nn.Linear(dim_c, cfg.n_steps * dim_z, bias=False)
        # Start near the uniform loss ln(1 + negatives). At PyTorch's default init the scores
        # are spread widely and the loss starts above uniform; the quickest way down is to make
        # every z alike, and the encoder collapses to a constant within a few steps (measured:
        # K = 12, 128 negatives, Adam 1e-3, stuck at the uniform loss). A 10x smaller init
        # leaves the plateau at once (bench/README.md, "Predictor initialisation").
        with torch.no_grad():
            self.weight.weight.mul_(cfg.init_scale)

    def forward(self, c: Tensor) -> Tensor:
        return rearrange(self.weight(c), "b t (k d) -> b t k d", k=self.n_steps)


def build_predictor(cfg: PredictorConfig, dim_c: int, dim_z: int) -> nn.Module:
    return LinearPredictor(cfg, dim_c, dim_z)
