"""g_ar: causal context networks over the latent frames z.

Every context network maps ``z: (batch, frames, dim_z) -> c: (batch, frames, dim)`` where c_t
depends on z_<=t only, and takes and returns a streaming state, so that feeding z in chunks
with the returned state gives the same c as feeding it whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from .config import ContextConfig


class RecurrentContext(nn.Module):
    """A GRU or LSTM. State: the hidden state (``h`` or ``(h, c)``), (layers, batch, dim)."""

    def __init__(self, cfg: ContextConfig, dim_z: int):
        super().__init__()
        rnn = nn.GRU if cfg.type == "gru" else nn.LSTM
        self.rnn = rnn(dim_z, cfg.dim, num_layers=cfg.layers, batch_first=True)

    def forward(self, z: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """z: (batch, frames, dim_z) -> c: (batch, frames, dim), new state."""
        if z.shape[1] == 0:
            return z.new_zeros(z.shape[0], 0, self.rnn.hidden_size), state
        c, state = self.rnn(z, state)
        return c, state


def _rotary(x: Tensor, offset: int) -> Tensor:
    """Rotary position embedding (Su et al., 2021) for x: (batch, heads, frames, head_dim).

    Positions are ``offset, offset+1, ...``: only relative positions reach the attention
    scores, so any length works and a streamed chunk continues where the last one ended.
    """
    half = x.shape[-1] // 2
    inv_freq = 10000.0 ** (-torch.arange(half, device=x.device, dtype=torch.float32) / half)
    pos = torch.arange(offset, offset + x.shape[-2], device=x.device, dtype=torch.float32)
    angle = pos[:, None] * inv_freq[None, :]
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


@dataclass
class TransformerState:
    """Keys and values of every past frame for each layer, and how many frames came before."""

    keys: list[Tensor]  # per layer: (batch, heads, past, head_dim)
    values: list[Tensor]
    offset: int


class CausalBlock(nn.Module):
    """Pre-norm transformer block with causal self-attention and rotary positions.

    x: (batch, frames, dim) -> (batch, frames, dim)
    """

    def __init__(self, cfg: ContextConfig):
        super().__init__()
        self.heads = cfg.heads
        self.norm1 = nn.LayerNorm(cfg.dim)
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.norm2 = nn.LayerNorm(cfg.dim)
        self.ff = nn.Sequential(
            nn.Linear(cfg.dim, cfg.ff_dim), nn.GELU(), nn.Linear(cfg.ff_dim, cfg.dim)
        )
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(
        self, x: Tensor, past: Optional[tuple[Tensor, Tensor]], offset: int
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        q, k, v = rearrange(self.qkv(self.norm1(x)), "b t (s h e) -> s b h t e", s=3, h=self.heads)
        q, k = _rotary(q, offset), _rotary(k, offset)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        t, s = q.shape[2], k.shape[2]
        drop = self.dropout.p if self.training else 0.0
        if s == t:
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=drop)
        else:  # queries are the last t of s positions
            mask = torch.ones(t, s, dtype=torch.bool, device=x.device).tril(diagonal=s - t)
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        x = x + self.dropout(self.proj(rearrange(a, "b h t e -> b t (h e)")))
        x = x + self.dropout(self.ff(self.norm2(x)))
        return x, (k, v)


class TransformerContext(nn.Module):
    """A causal Transformer. State: :class:`TransformerState` (a key/value cache)."""

    def __init__(self, cfg: ContextConfig, dim_z: int):
        super().__init__()
        self.input = nn.Linear(dim_z, cfg.dim)
        self.blocks = nn.ModuleList([CausalBlock(cfg) for _ in range(cfg.layers)])
        self.norm = nn.LayerNorm(cfg.dim)

    def forward(
        self, z: Tensor, state: Optional[TransformerState] = None
    ) -> tuple[Tensor, TransformerState]:
        """z: (batch, frames, dim_z) -> c: (batch, frames, dim), new state."""
        x = self.input(z)
        offset = 0 if state is None else state.offset
        keys, values = [], []
        for i, block in enumerate(self.blocks):
            past = None if state is None else (state.keys[i], state.values[i])
            x, (k, v) = block(x, past, offset)
            keys.append(k)
            values.append(v)
        return self.norm(x), TransformerState(keys, values, offset + z.shape[1])


def build_context(cfg: ContextConfig, dim_z: int) -> nn.Module:
    if cfg.type == "transformer":
        return TransformerContext(cfg, dim_z)
    return RecurrentContext(cfg, dim_z)
