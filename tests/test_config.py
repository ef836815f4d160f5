"""Config: defaults, YAML round trip, dotted overrides and clear errors."""

import pytest

from cpc import ConfigError, CPCConfig, apply_overrides


def test_defaults_are_the_cpc_paper_audio_model():
    cfg = CPCConfig()
    assert cfg.encoder.strides == (5, 4, 2, 2, 2)
    assert cfg.encoder.kernels == (10, 8, 4, 4, 4)
    assert cfg.encoder.channels == 512
    assert cfg.encoder.stride == 160
    assert cfg.encoder.receptive_field == 465
    assert (cfg.context.type, cfg.context.dim) == ("gru", 256)
    assert cfg.predictor.n_steps == 12
    assert cfg.loss.n_negatives == 128


def test_yaml_round_trip(tmp_path):
    cfg = apply_overrides(CPCConfig(), ["context.type=transformer", "loss.temperature=0.1",
                                        "encoder.strides=[4,4,2]", "encoder.kernels=8,8,4"])
    path = tmp_path / "model.yaml"
    cfg.to_yaml(path)
    back = CPCConfig.from_yaml(path)
    assert back == cfg
    assert back.encoder.strides == (4, 4, 2) and back.encoder.stride == 32
    assert CPCConfig.from_json(cfg.to_json()) == cfg


def test_partial_yaml_keeps_defaults(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("context:\n  type: lstm\nloss:\n  negatives: sequence\n")
    cfg = CPCConfig.from_yaml(path)
    assert cfg.context.type == "lstm" and cfg.loss.negatives == "sequence"
    assert cfg.encoder == CPCConfig().encoder


def test_overrides_parse_types():
    cfg = apply_overrides(CPCConfig(), [
        "loss.n_negatives=64", "loss.exclude_positive=false", "encoder.input_gain=11.8",
        "loss.temperature=null", "context.type=lstm",
    ])
    assert cfg.loss.n_negatives == 64 and cfg.loss.exclude_positive is False
    assert cfg.encoder.input_gain == 11.8 and cfg.loss.temperature is None
    assert cfg.context.type == "lstm"


@pytest.mark.parametrize("override, message", [
    ("loss.n_negativs=64", "unknown key loss.n_negativs"),
    ("encodr.channels=3", "unknown key encodr"),
    ("loss.n_negatives=many", "loss.n_negatives: expected an integer"),
    ("loss.n_negatives=0", "loss.n_negatives: must be > 0"),
    ("context.type=rnn", "context.type: 'rnn' is not one of gru, lstm, transformer"),
    ("loss.negatives=random", "loss.negatives"),
    ("encoder.strides=5,4", "encoder.kernels .* and encoder.strides .* same length"),
    ("encoder.kernels=2,8,4,4,4", "kernel 2 < stride 5"),
    ("loss.exclude_positive=maybe", "expected true or false"),
    ("loss", "expected key=value"),
    ("encoder=3", "encoder is a section"),
    ("encoder.input_gain=0", "encoder.input_gain"),
])
def test_bad_overrides_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(CPCConfig(), [override])


def test_bad_yaml_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("loss:\n  n_negatives: [1\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        CPCConfig.from_yaml(path)
    path.write_text("loss:\n  negatves: 3\n")
    with pytest.raises(ConfigError, match="bad.yaml: unknown key loss.negatves"):
        CPCConfig.from_yaml(path)
    with pytest.raises(ConfigError, match="no such config file"):
        CPCConfig.from_yaml(tmp_path / "missing.yaml")


def test_direct_construction_validates():
    from cpc import ContextConfig, EncoderConfig

    with pytest.raises(ConfigError, match="same length"):
        EncoderConfig(kernels=(10, 8), strides=(5,))
    with pytest.raises(ConfigError, match="divisible"):
        ContextConfig(type="transformer", dim=30, heads=4)
