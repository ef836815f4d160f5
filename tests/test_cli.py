"""The cpc command line."""

import subprocess
import sys

import cpc
from cpc.cli import main


def test_version():
    res = subprocess.run([sys.executable, "-m", "cpc", "--version"], capture_output=True, text=True)
    assert res.returncode == 0
    assert res.stdout.strip() == f"cpc {cpc.__version__}"


def test_info_prints_the_default_model(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "stride 160 samples (10 ms at 16000 Hz), receptive field 465 samples" in out
    assert "gru x1, dim 256" in out and "K = 12 steps" in out
    assert "20480 samples gives 128 frames" in out
    n = cpc.CPCModel().num_parameters()
    assert f"CPCModel: {n:,} parameters" in out


def test_info_with_file_and_overrides(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    cpc.apply_overrides(cpc.CPCConfig(), ["encoder.channels=64"]).to_yaml(path)
    assert main(["info", "--config", str(path), "context.type=transformer", "--show-config"]) == 0
    out = capsys.readouterr().out
    assert "64 channels" in out and "transformer x1" in out
    assert "type: transformer" in out


def test_info_bad_key_is_a_clear_error(capsys):
    assert main(["info", "loss.n_negativs=3"]) == 2
    err = capsys.readouterr().err
    assert "unknown key loss.n_negativs" in err
    assert main(["info", "--config", "/nonexistent.yaml"]) == 2
    assert "no such config file" in capsys.readouterr().err
