"""CPCModel: g_enc -> z, g_ar -> c, W_k -> predictions, InfoNCE -> loss.

    model = CPCModel(CPCConfig())
    out = model(x)                # x: (batch, samples) or (batch, channels, samples)
    out.loss.backward()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import torch
from torch import Tensor, nn

from .checkpoint import save_pretrained
from .config import CPCConfig
from .context import build_context
from .encoder import ConvEncoder
from .infonce import infonce, sample_negatives
from .predictor import build_predictor


@dataclass
class CPCOutput:
    """What :meth:`CPCModel.forward` returns.

    z: (batch, frames, dim_z) latents; c: (batch, frames, dim_c) contexts;
    predictions: (batch, frames, K, dim_z) holding W_k c_t at index k-1;
    loss: () InfoNCE averaged over the K steps; step_loss, step_accuracy: (K,).
    The last four are None when the loss was not asked for.
    """

    z: Tensor
    c: Tensor
    predictions: Optional[Tensor] = None
    loss: Optional[Tensor] = None
    step_loss: Optional[Tensor] = None
    step_accuracy: Optional[Tensor] = None


@dataclass
class StreamState:
    """What :meth:`CPCModel.stream` carries between chunks."""

    encoder: Optional[Tensor] = None  # past samples
    context: Any = None  # the context network's own state


class CPCModel(nn.Module):
    """Contrastive Predictive Coding (van den Oord et al., 2018)."""

    def __init__(self, cfg: Optional[CPCConfig] = None):
        super().__init__()
        self.cfg = cfg = cfg if cfg is not None else CPCConfig()
        self.encoder = ConvEncoder(cfg.encoder)
        self.context = build_context(cfg.context, cfg.encoder.dim)
        self.predictor = build_predictor(cfg.predictor, cfg.context.dim, cfg.encoder.dim)

    def forward(
        self,
        x: Tensor,
        *,
        compute_loss: bool = True,
        negatives: Optional[Tensor] = None,
        generator: Optional[torch.Generator] = None,
    ) -> CPCOutput:
        """x: (batch, samples) or (batch, channels, samples).

        negatives: explicit flat indices (batch, frames, K, n) into the batch's latents, to
        override sampling; generator: the random source for sampling.
        """
        z = self.encoder(x)
        c, _ = self.context(z)
        if not compute_loss:
            return CPCOutput(z, c)
        predictions = self.predictor(c)
        lc = self.cfg.loss
        if negatives is None and lc.negatives != "all":
            B, T, K = predictions.shape[:3]
            negatives = sample_negatives(
                B, T, K, lc.n_negatives, lc.negatives,
                exclude_positive=lc.exclude_positive, generator=generator, device=z.device,
            )
        res = infonce(z, predictions, negatives, temperature=lc.temperature)
        return CPCOutput(z, c, predictions, res.loss, res.step_loss, res.step_accuracy)

    @torch.no_grad()
    def stream(self, x: Tensor, state: Optional[StreamState] = None) -> tuple[Tensor, Tensor, StreamState]:
        """Encode one chunk of a longer signal; returns (z, c, state) for the frames it completes.

        x: (batch, [channels,] chunk) of any length. Concatenating the outputs of successive
        chunks gives the z and c of the whole signal.
        """
        state = state if state is not None else StreamState()
        z, enc_state = self.encoder.step(x, state.encoder)
        c, ctx_state = self.context(z, state.context)
        return z, c, StreamState(enc_state, ctx_state)

    # ----- conveniences -------------------------------------------------------------------
    def num_parameters(self, module: Optional[nn.Module] = None) -> int:
        module = module if module is not None else self
        return sum(p.numel() for p in module.parameters())

    def frames(self, samples: int) -> int:
        """Frames produced for an input of ``samples`` samples."""
        return samples // self.encoder.stride

    def save_pretrained(self, directory: Union[str, Path]) -> Path:
        """Write safetensors weights and a JSON config; read back with :func:`cpc.load_pretrained`."""
        return save_pretrained(self, directory)

    def summary(self) -> str:
        """A human-readable description of the model."""
        cfg = self.cfg
        enc = cfg.encoder
        rate = cfg.sample_rate
        lines = [
            f"CPCModel: {self.num_parameters():,} parameters",
            f"  encoder    {self.num_parameters(self.encoder):>12,}  conv x{len(enc.kernels)} "
            f"kernels {list(enc.kernels)} strides {list(enc.strides)}, {enc.channels} channels, "
            f"norm {enc.norm}, input channels {enc.in_channels}, input gain {enc.input_gain:g}",
            f"             stride {enc.stride} samples ({1000 * enc.stride / rate:g} ms at {rate} Hz), "
            f"receptive field {enc.receptive_field} samples ({1000 * enc.receptive_field / rate:g} ms)",
            f"  context    {self.num_parameters(self.context):>12,}  {cfg.context.type} x{cfg.context.layers}, "
            f"dim {cfg.context.dim}" + (
                f", {cfg.context.heads} heads, ff {cfg.context.ff_dim}"
                if cfg.context.type == "transformer" else ""
            ),
            f"  predictor  {self.num_parameters(self.predictor):>12,}  {cfg.predictor.type} W_k, "
            f"K = {cfg.predictor.n_steps} steps",
            f"  loss       InfoNCE, negatives {cfg.loss.negatives}"
            + ("" if cfg.loss.negatives == "all" else f" x{cfg.loss.n_negatives}")
            + f", positive {'excluded' if cfg.loss.exclude_positive else 'allowed'} among negatives"
            + (f", temperature {cfg.loss.temperature:g}" if cfg.loss.temperature else ""),
            f"  a window of 20480 samples gives {self.frames(20480)} frames of z (dim {enc.dim}) "
            f"and c (dim {cfg.context.dim})",
        ]
        return "\n".join(lines)
