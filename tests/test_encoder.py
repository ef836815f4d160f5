"""g_enc: frame arithmetic, causality, chunked encoding and input checks."""

import pytest
import torch

from cpc import CPCConfig, CPCModel, EncoderConfig, apply_overrides
from cpc.encoder import ConvEncoder

from cpc.synthetic import tone_segments


def test_default_window_gives_128_frames():
    model = CPCModel()
    assert model.encoder.stride == 160
    assert model.encoder.receptive_field == 465
    z = model.encoder(torch.randn(2, 20480))
    assert z.shape == (2, 128, 512)


@pytest.mark.parametrize("samples", [160, 161, 319, 320, 1000, 4097])
def test_frames_is_samples_floor_stride(samples):
    enc = ConvEncoder(EncoderConfig(channels=8))
    assert enc(torch.randn(1, samples)).shape[1] == samples // 160


def test_receptive_field_is_exact():
    """Frame t depends on exactly samples [(t+1)*stride - rf, (t+1)*stride)."""
    enc = ConvEncoder(EncoderConfig(channels=8)).double()
    x = torch.randn(1, 3200, dtype=torch.float64, requires_grad=True)
    t = 12
    enc(x)[0, t].sum().backward()
    nonzero = x.grad[0].nonzero().flatten()
    assert nonzero.max().item() == (t + 1) * 160 - 1
    assert nonzero.min().item() == (t + 1) * 160 - 465


def test_multichannel_input():
    cfg = EncoderConfig(in_channels=3, channels=16, kernels=(4, 4), strides=(2, 2))
    enc = ConvEncoder(cfg)
    assert enc(torch.randn(2, 3, 64)).shape == (2, 16, 16)
    with pytest.raises(ValueError, match=r"expected 3 input channel\(s\).*\(2, 1, 64\)"):
        enc(torch.randn(2, 1, 64))
    with pytest.raises(ValueError, match=r"\(batch, samples\) or \(batch, channels, samples\)"):
        enc(torch.randn(64))


def test_too_short_input_is_a_clear_error():
    with pytest.raises(ValueError, match="shorter than one frame"):
        ConvEncoder(EncoderConfig(channels=8))(torch.randn(1, 100))


@pytest.mark.parametrize("chunks", [[20480], [7, 153, 160, 1000, 19160], [333] * 61 + [167]])
def test_chunked_encoding_equals_whole(chunks):
    enc = ConvEncoder(EncoderConfig(channels=32)).eval()
    x = torch.randn(2, sum(chunks))
    whole = enc(x)
    parts, state, pos = [], None, 0
    for n in chunks:
        z, state = enc.step(x[:, pos : pos + n], state)
        parts.append(z)
        pos += n
    torch.testing.assert_close(torch.cat(parts, dim=1), whole, rtol=1e-5, atol=1e-5)


def test_input_gain_is_applied():
    cfg = EncoderConfig(channels=8, norm="none")
    enc = ConvEncoder(cfg)
    x = torch.randn(1, 1600)
    gained = ConvEncoder(EncoderConfig(channels=8, norm="none", input_gain=10.0))
    gained.load_state_dict(enc.state_dict())
    torch.testing.assert_close(gained(x), enc(10 * x))


def test_encoder_does_not_collapse_on_speech_scale_input():
    """At rms 0.1 (raw speech), different sounds must give different z at initialisation.

    A conv bias before the per-frame norm drowns such an input: every frame's z is then almost
    the same vector and training cannot leave the uniform loss.
    """
    torch.manual_seed(0)
    model = CPCModel()
    x = tone_segments(2, 20480, rms=0.1)
    with torch.no_grad():
        z = model.encoder(x).reshape(-1, 512)
    centred = z - z.mean(dim=0)
    assert (centred.norm(dim=1) / z.norm(dim=1)).mean() > 0.2
