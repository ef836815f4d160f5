"""CPCModel: outputs, learning on a predictable signal, save/load round trip."""

import json
import math

import pytest
import torch

import cpc
from cpc import CPCConfig, CPCModel, apply_overrides

from cpc.synthetic import tone_segments

TINY = ["encoder.channels=32", "encoder.kernels=8,8,4", "encoder.strides=4,4,2",
        "context.dim=32", "context.ff_dim=64", "predictor.n_steps=3", "loss.n_negatives=16"]


def tiny(*extra):
    return apply_overrides(CPCConfig(), TINY + list(extra))


def test_output_shapes():
    model = CPCModel(tiny())
    out = model(torch.randn(4, 2048))
    assert out.z.shape == (4, 64, 32)
    assert out.c.shape == (4, 64, 32)
    assert out.predictions.shape == (4, 64, 3, 32)
    assert out.loss.shape == () and out.step_loss.shape == (3,) and out.step_accuracy.shape == (3,)
    torch.testing.assert_close(out.loss, out.step_loss.mean())
    assert model(torch.randn(4, 2048), compute_loss=False).loss is None


def test_predictions_are_w_k_times_c():
    model = CPCModel(tiny())
    out = model(torch.randn(2, 2048))
    w = model.predictor.weight.weight.view(3, 32, 32)  # (K, dim_z, dim_c)
    for k in range(3):
        torch.testing.assert_close(out.predictions[:, :, k], out.c @ w[k].T)


def test_explicit_negatives_are_used():
    model = CPCModel(tiny())
    x = torch.randn(2, 2048)
    neg = cpc.sample_negatives(2, 64, 3, 5, "sequence", generator=torch.Generator().manual_seed(0))
    a, b = model(x, negatives=neg), model(x, negatives=neg)
    torch.testing.assert_close(a.loss, b.loss)
    assert a.loss != model(x, negatives=neg.flip(-1) * 0).loss


def train(model, data, steps, lr):
    """Adam on random batches of 8 from ``data``; returns per-step losses and step-1 accuracies."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    losses, acc = [], []
    for _ in range(steps):
        out = model(data[torch.randint(0, len(data), (8,), generator=g)], generator=g)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(out.loss.item())
        acc.append(out.step_accuracy[0].item())
    return losses, acc


@pytest.mark.parametrize("negatives", ["sequence", "batch", "mixed", "all"])
def test_short_run_learns_a_predictable_signal_at_speech_scale(negatives):
    """Tones at rms 0.1 (raw speech's scale): step-1 accuracy far above chance in seconds."""
    torch.manual_seed(0)
    model = CPCModel(tiny(f"loss.negatives={negatives}"))
    losses, acc = train(model, tone_segments(32, 2048, rms=0.1, seed=1), steps=120, lr=3e-3)
    candidates = 8 * 64 if negatives == "all" else 17
    # Chance is 1/17 (about 6%), or 1/512 with every frame of the batch a candidate.
    assert sum(acc[-10:]) / 10 > (0.1 if negatives == "all" else 0.35)
    assert sum(losses[-10:]) / 10 < math.log(candidates) - 0.5


def test_paper_head_leaves_the_uniform_loss_at_speech_scale():
    """K = 12 steps, 128 negatives, a 256-wide encoder, rms-0.1 input, Adam 1e-3: the setting
    where the encoder collapsed to a constant and the loss stayed at ln 129. Measured: step-1
    accuracy 0.62 after 40 steps; 0.01 (chance) with either encoder.init_scale=1 or
    predictor.init_scale=1."""
    torch.manual_seed(0)
    model = CPCModel(apply_overrides(CPCConfig(), ["encoder.channels=256", "context.dim=64"]))
    losses, acc = train(model, tone_segments(32, 20480, rms=0.1, seed=1), steps=40, lr=1e-3)
    assert losses[-1] < math.log(129) - 0.5
    assert sum(acc[-10:]) / 10 > 0.3  # chance: 1/129


@pytest.mark.parametrize("context_type", ["gru", "lstm", "transformer"])
def test_save_load_round_trip(tmp_path, context_type):
    model = CPCModel(tiny(f"context.type={context_type}", "encoder.input_gain=3.5")).eval()
    model.save_pretrained(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    back = cpc.load_pretrained(tmp_path / "m")
    assert back.cfg == model.cfg
    x = torch.randn(2, 2048)
    with torch.no_grad():
        a, b = model(x, compute_loss=False), back(x, compute_loss=False)
    torch.testing.assert_close(a.c, b.c, rtol=0, atol=0)
    for k, v in model.state_dict().items():
        assert torch.equal(v, back.state_dict()[k]), k


def test_load_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model directory"):
        cpc.load_pretrained(tmp_path / "nothing")
    d = tmp_path / "m"
    CPCModel(tiny()).save_pretrained(d)
    (d / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="model.safetensors: cannot read weights"):
        cpc.load_pretrained(d)
    CPCModel(tiny()).save_pretrained(d)
    doc = json.loads((d / "config.json").read_text())
    doc["config"]["encoder"]["channels"] = 64
    (d / "config.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="weights do not match the config"):
        cpc.load_pretrained(d)
    doc["config"]["encoder"]["chanels"] = 64
    (d / "config.json").write_text(json.dumps(doc))
    with pytest.raises(cpc.ConfigError, match="config.json: unknown key encoder.chanels"):
        cpc.load_pretrained(d)
    (d / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="not a cpc model config"):
        cpc.load_pretrained(d)


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    d = tmp_path / "m"
    CPCModel(tiny()).save_pretrained(d)
    before = (d / "model.safetensors").read_bytes()

    def broken(tensors, path, metadata=None):
        open(path, "wb").write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr("cpc.checkpoint.save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        CPCModel(tiny()).save_pretrained(d)
    assert (d / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in d.iterdir()) == ["config.json", "model.safetensors"]


def test_import_does_not_pull_heavy_optional_modules():
    import subprocess
    import sys

    code = ("import sys, cpc; bad = [m for m in ('torchaudio', 'librosa', 'sklearn') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
