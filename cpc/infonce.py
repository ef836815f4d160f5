"""InfoNCE for CPC: negative sampling and scoring, as pure functions.

Shapes: b batch, t frames, k prediction step (k = 1..K stored at index k-1), n negatives,
d feature.  Latents are addressed by flat index ``b * frames + t`` into ``z.reshape(b*t, d)``.

The score of a candidate latent z for prediction step k at context t is the plain dot product
``<W_k c_t, z>`` (the log of the CPC paper's f_k), optionally divided by a temperature.  For
step k only contexts t < T - k have a target, z[b, t+k]; the loss of a step is the cross-entropy
of picking the target among its candidates averaged over those (b, t), and the total loss is the
mean over steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from einops import rearrange
from torch import Tensor

NEGATIVE_MODES = ("sequence", "batch", "mixed", "all")


@dataclass
class InfoNCEOutput:
    """loss: () mean over steps; step_loss, step_accuracy: (K,)."""

    loss: Tensor
    step_loss: Tensor
    step_accuracy: Tensor


def positive_indices(batch: int, frames: int, n_steps: int, device=None) -> Tensor:
    """Flat index of the target z[b, t+k] for every (b, t, k): (batch, frames, n_steps).

    Rows with t + k >= frames have no target; they hold ``b * frames + t + k`` anyway (it may
    point into the next sequence or past the end) and the loss masks them out.
    """
    b = torch.arange(batch, device=device).view(batch, 1, 1) * frames
    t = torch.arange(frames, device=device).view(1, frames, 1)
    k = torch.arange(1, n_steps + 1, device=device).view(1, 1, n_steps)
    return b + t + k


def sample_negatives(
    batch: int,
    frames: int,
    n_steps: int,
    n_negatives: int,
    mode: str,
    *,
    exclude_positive: bool = True,
    generator: Optional[torch.Generator] = None,
    device=None,
) -> Tensor:
    """Draw negatives for every (b, t, k): flat indices of shape (batch, frames, n_steps, n).

    - ``sequence``: frames of the same sequence b.
    - ``batch``: frames of the other sequences of the batch (never sequence b).
    - ``mixed``: any frame of the batch (the CPC paper's setting).
    With ``exclude_positive`` the target z[b, t+k] is never among its own negatives: draws are
    made from one fewer candidate and indices at or past the target's shift up by one.
    Draws are independent and with replacement, as in the CPC paper.
    """
    if mode not in ("sequence", "batch", "mixed"):
        raise ValueError(f"negatives mode {mode!r} draws no samples; use one of sequence, batch, mixed")
    if mode == "batch" and batch < 2:
        raise ValueError("negatives mode 'batch' needs a batch of at least 2 sequences")
    shape = (batch, frames, n_steps, n_negatives)
    device = device if generator is None else generator.device

    def draw(high: int) -> Tensor:
        if high < 1:
            raise ValueError(
                f"negatives mode {mode!r}: no candidate left to draw from "
                f"(batch {batch}, frames {frames})"
            )
        return torch.randint(high, shape, generator=generator, device=device)

    pos = positive_indices(batch, frames, n_steps, device)[..., None]
    if mode == "sequence":
        start = torch.arange(batch, device=device).view(batch, 1, 1, 1) * frames
        if not exclude_positive:
            return start + draw(frames)
        u = draw(frames - 1)
        return start + u + (u >= pos - start).long()
    if mode == "batch":
        u = draw((batch - 1) * frames)
        own = torch.arange(batch, device=device).view(batch, 1, 1, 1)
        seq = u // frames
        return (seq + (seq >= own).long()) * frames + u % frames
    # mixed
    if not exclude_positive:
        return draw(batch * frames)
    u = draw(batch * frames - 1)
    return u + (u >= pos).long()


def infonce(
    z: Tensor,
    predictions: Tensor,
    negatives: Optional[Tensor] = None,
    *,
    temperature: Optional[float] = None,
) -> InfoNCEOutput:
    """InfoNCE loss and accuracy.

    z: (b, t, d) latents; predictions: (b, t, K, d) holding W_k c_t;
    negatives: (b, t, K, n) flat indices into the b*t latents (from :func:`sample_negatives` or
    your own), or None for mode ``all``: every latent of the batch is a candidate.
    Accuracy counts rows whose target scores strictly higher than every other candidate.
    """
    if z.dim() != 3 or predictions.dim() != 4 or predictions.shape[:2] != z.shape[:2] or (
        predictions.shape[-1] != z.shape[-1]
    ):
        raise ValueError(
            f"expected z (b, t, d) and predictions (b, t, K, d), got {tuple(z.shape)} and "
            f"{tuple(predictions.shape)}"
        )
    B, T, K, _ = predictions.shape
    if T <= K:
        raise ValueError(f"need more frames than prediction steps: {T} frames, {K} steps")
    if negatives is not None and negatives.shape[:3] != (B, T, K):
        raise ValueError(
            f"negatives must have shape ({B}, {T}, {K}, n), got {tuple(negatives.shape)}"
        )
    # Score every prediction against every latent of the batch with one matmul, then pick the
    # candidates: far less memory than gathering (b, t, K, n, d) candidate vectors.
    scores = predictions.reshape(B * T * K, -1) @ rearrange(z, "b t d -> d (b t)")
    scores = scores.view(B, T, K, B * T)
    if temperature is not None:
        scores = scores / temperature
    pos = positive_indices(B, T, K, z.device).clamp(max=B * T - 1)
    pos_score = scores.gather(-1, pos[..., None]).squeeze(-1)  # (b, t, K)
    if negatives is None:
        logits = scores
        with torch.no_grad():
            others = scores.scatter(-1, pos[..., None], float("-inf"))
    else:
        neg = scores.gather(-1, negatives)  # (b, t, K, n)
        logits = torch.cat([pos_score[..., None], neg], dim=-1)
        others = neg.detach()
    ce = torch.logsumexp(logits, dim=-1) - pos_score  # (b, t, K)

    steps = torch.arange(1, K + 1, device=z.device)
    valid = (torch.arange(T, device=z.device)[:, None] + steps[None, :]) < T  # (t, K)
    count = (T - steps) * B
    step_loss = (ce * valid).sum(dim=(0, 1)) / count
    with torch.no_grad():
        correct = (pos_score.detach() > others.amax(dim=-1)) & valid
        step_accuracy = correct.sum(dim=(0, 1)).float() / count
    return InfoNCEOutput(step_loss.mean(), step_loss, step_accuracy)
