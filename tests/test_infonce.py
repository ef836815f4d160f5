"""InfoNCE: the vectorised loss against a naive loop, and where sampling draws from."""

import math

import pytest
import torch

from cpc.infonce import infonce, positive_indices, sample_negatives


def naive_infonce(z, predictions, negatives, temperature=None):
    """One (b, t, k) at a time, straight from the definition."""
    B, T, K, D = predictions.shape
    flat = z.reshape(B * T, D)
    tau = temperature or 1.0
    step_loss, step_acc = [], []
    for k in range(1, K + 1):
        losses, correct = [], 0
        for b in range(B):
            for t in range(T - k):
                p = predictions[b, t, k - 1]
                target = b * T + t + k
                if negatives is None:
                    cands = list(range(B * T))
                    ti = target
                else:
                    cands = [target] + negatives[b, t, k - 1].tolist()
                    ti = 0
                s = torch.stack([p @ flat[j] for j in cands]) / tau
                losses.append(torch.logsumexp(s, 0) - s[ti])
                others = torch.cat([s[:ti], s[ti + 1 :]])
                correct += int(s[ti] > others.max())
        step_loss.append(torch.stack(losses).mean())
        step_acc.append(correct / len(losses))
    step_loss = torch.stack(step_loss)
    return step_loss.mean(), step_loss, torch.tensor(step_acc)


@pytest.mark.parametrize("mode", ["sequence", "batch", "mixed", "all"])
@pytest.mark.parametrize("temperature", [None, 0.3])
def test_loss_matches_naive_loop(mode, temperature):
    g = torch.Generator().manual_seed(1)
    B, T, K, D, N = 3, 9, 3, 5, 4
    z = torch.randn(B, T, D, generator=g, dtype=torch.float64)
    pred = torch.randn(B, T, K, D, generator=g, dtype=torch.float64)
    # Make some targets win so accuracy is not trivially 0.
    for k in range(1, K + 1):
        pred[:, : T - k, k - 1] += 2 * z[:, k:]
    neg = None if mode == "all" else sample_negatives(B, T, K, N, mode, generator=g)
    out = infonce(z, pred, neg, temperature=temperature)
    loss, step_loss, step_acc = naive_infonce(z, pred, neg, temperature)
    torch.testing.assert_close(out.loss, loss)
    torch.testing.assert_close(out.step_loss, step_loss)
    torch.testing.assert_close(out.step_accuracy, step_acc.float())
    assert 0 < out.step_accuracy.max() <= 1


def test_loss_gradients_match_naive_loop():
    g = torch.Generator().manual_seed(2)
    B, T, K, D, N = 2, 7, 2, 4, 3
    z = torch.randn(B, T, D, generator=g, dtype=torch.float64, requires_grad=True)
    pred = torch.randn(B, T, K, D, generator=g, dtype=torch.float64, requires_grad=True)
    neg = sample_negatives(B, T, K, N, "mixed", generator=g)
    fast = torch.autograd.grad(infonce(z, pred, neg).loss, (z, pred))
    slow = torch.autograd.grad(naive_infonce(z, pred, neg)[0], (z, pred))
    for a, b in zip(fast, slow):
        torch.testing.assert_close(a, b)


def test_uniform_scores_give_log_candidates_and_zero_accuracy():
    B, T, K, D, N = 2, 6, 2, 3, 7
    z = torch.zeros(B, T, D)
    pred = torch.zeros(B, T, K, D)
    neg = sample_negatives(B, T, K, N, "mixed")
    out = infonce(z, pred, neg)
    torch.testing.assert_close(out.loss, torch.tensor(math.log(N + 1)))
    # Ties are not wins: a collapsed encoder must not look accurate.
    assert out.step_accuracy.sum() == 0
    out = infonce(z, pred, None)
    torch.testing.assert_close(out.loss, torch.tensor(math.log(B * T)))


def test_explicit_negatives_pick_the_candidates():
    # One negative equal to the target latent: loss ln 2 exactly, and never counted correct.
    B, T, K, D = 1, 4, 1, 2
    z = torch.tensor([[[1.0, 0], [0, 1], [1, 1], [2, 0]]])
    pred = torch.ones(B, T, K, D)
    neg = torch.full((B, T, K, 1), 0)
    out = infonce(z, pred, neg)
    # Targets z1..z3 score 1, 2, 2 against the negative z0 scoring 1.
    expected = torch.stack([
        torch.log1p(torch.exp(torch.tensor(1.0 - 1.0))),
        torch.log1p(torch.exp(torch.tensor(1.0 - 2.0))),
        torch.log1p(torch.exp(torch.tensor(1.0 - 2.0))),
    ]).mean()
    torch.testing.assert_close(out.loss, expected)
    torch.testing.assert_close(out.step_accuracy, torch.tensor([2 / 3]))


def test_bad_shapes_raise():
    z = torch.randn(2, 5, 3)
    with pytest.raises(ValueError, match="more frames than prediction steps"):
        infonce(z, torch.randn(2, 5, 5, 3))
    with pytest.raises(ValueError, match="predictions"):
        infonce(z, torch.randn(2, 5, 2, 4))
    with pytest.raises(ValueError, match="negatives must have shape"):
        infonce(z, torch.randn(2, 5, 2, 3), torch.zeros(2, 5, 3, 4, dtype=torch.long))


# ----- sampling ----------------------------------------------------------------------------

B, T, K, N = 4, 16, 3, 64


def _draw(mode, exclude=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    return sample_negatives(B, T, K, N, mode, exclude_positive=exclude, generator=g)


def _valid_rows():
    t = torch.arange(T).view(1, T, 1)
    k = torch.arange(1, K + 1).view(1, 1, K)
    return ((t + k) < T).expand(B, T, K)


@pytest.mark.parametrize("mode", ["sequence", "batch", "mixed"])
def test_sampling_shape_range_and_positive_excluded(mode):
    idx = _draw(mode)
    assert idx.shape == (B, T, K, N) and idx.dtype == torch.long
    assert idx.min() >= 0 and idx.max() < B * T
    pos = positive_indices(B, T, K)[..., None]
    assert not ((idx == pos) & _valid_rows()[..., None]).any()


def test_sequence_mode_stays_in_its_sequence_and_covers_it():
    idx = _draw("sequence")
    own = torch.arange(B).view(B, 1, 1, 1)
    assert (idx // T == own).all()
    # Every frame of the sequence but the target is drawn somewhere for row (b=1, t=2, k=1).
    rows = torch.cat([_draw("sequence", seed=s)[1, 2, 0] for s in range(20)])
    assert set(rows.tolist()) == set(range(T, 2 * T)) - {T + 3}


def test_batch_mode_never_uses_its_own_sequence_and_covers_the_others():
    idx = _draw("batch")
    own = torch.arange(B).view(B, 1, 1, 1)
    assert (idx // T != own).all()
    rows = torch.cat([_draw("batch", seed=s)[2, 5, 1] for s in range(40)])
    assert set(rows.tolist()) == set(range(B * T)) - set(range(2 * T, 3 * T))


def test_mixed_mode_is_uniform_over_all_other_frames():
    idx = torch.cat([_draw("mixed", seed=s)[0, 0, 0] for s in range(600)])  # 38400 draws
    counts = torch.bincount(idx, minlength=B * T).float()
    assert counts[1] == 0  # the target of (b=0, t=0, k=1)
    others = torch.cat([counts[:1], counts[2:]])
    expected = len(idx) / (B * T - 1)
    chi2 = ((others - expected) ** 2 / expected).sum().item()
    assert chi2 < 1.5 * (B * T - 2)  # a biased sampler fails this by far


@pytest.mark.parametrize("mode", ["sequence", "mixed"])
def test_positive_allowed_when_not_excluded(mode):
    idx = _draw(mode, exclude=False)
    pos = positive_indices(B, T, K)[..., None]
    assert ((idx == pos) & _valid_rows()[..., None]).any()


def test_sampling_is_reproducible_from_a_generator():
    assert torch.equal(_draw("mixed", seed=3), _draw("mixed", seed=3))
    assert not torch.equal(_draw("mixed", seed=3), _draw("mixed", seed=4))


def test_sampling_errors_are_clear():
    with pytest.raises(ValueError, match="at least 2 sequences"):
        sample_negatives(1, T, K, N, "batch")
    with pytest.raises(ValueError, match="draws no samples"):
        sample_negatives(B, T, K, N, "all")
