"""g_ar and the whole model: causality in train and eval mode, streaming equals whole."""

import pytest
import torch

from cpc import CPCConfig, CPCModel, apply_overrides

SMALL = ["encoder.channels=32", "context.dim=32", "context.ff_dim=64", "predictor.n_steps=3"]


def small_model(context_type, dropout=0.0):
    cfg = apply_overrides(CPCConfig(), SMALL + [f"context.type={context_type}",
                                                f"context.dropout={dropout}", "context.layers=2"])
    torch.manual_seed(0)
    return CPCModel(cfg)


@pytest.mark.parametrize("context_type", ["gru", "lstm", "transformer"])
@pytest.mark.parametrize("train", [True, False])
def test_changing_future_samples_leaves_earlier_outputs_unchanged(context_type, train):
    model = small_model(context_type, dropout=0.1 if context_type == "transformer" else 0.0)
    model.train(train)
    x = torch.randn(3, 8000)
    cut = 4000  # frames t with (t+1)*160 <= cut see only samples before the cut
    y = x.clone()
    y[:, cut:] = torch.randn(3, 8000 - cut)

    def run(inp):
        torch.manual_seed(1)  # the same dropout masks for both inputs
        out = model(inp)
        return out.z, out.c

    (zx, cx), (zy, cy) = run(x), run(y)
    past = cut // 160
    torch.testing.assert_close(zx[:, :past], zy[:, :past], rtol=0, atol=0)
    torch.testing.assert_close(cx[:, :past], cy[:, :past], rtol=1e-6, atol=1e-6)
    # ... and the test can fail: the first frame that sees the change does change.
    assert not torch.allclose(zx[:, past], zy[:, past])
    assert not torch.allclose(cx[:, past:], cy[:, past:])


@pytest.mark.parametrize("context_type", ["gru", "lstm", "transformer"])
@pytest.mark.parametrize("chunks", [[1000, 3000, 1, 159, 4000], [160] * 50, [8000]])
def test_streaming_in_chunks_equals_whole(context_type, chunks):
    model = small_model(context_type).eval()
    x = torch.randn(2, sum(chunks))
    with torch.no_grad():
        whole = model(x, compute_loss=False)
    zs, cs, state, pos = [], [], None, 0
    for n in chunks:
        z, c, state = model.stream(x[:, pos : pos + n], state)
        zs.append(z)
        cs.append(c)
        pos += n
    torch.testing.assert_close(torch.cat(zs, 1), whole.z, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(torch.cat(cs, 1), whole.c, rtol=1e-4, atol=1e-5)


def test_transformer_positions_work_past_any_training_length():
    model = small_model("transformer").eval()
    with torch.no_grad():
        c = model(torch.randn(1, 160 * 3000), compute_loss=False).c
    assert c.shape == (1, 3000, 32) and torch.isfinite(c).all()
