"""Pretrained model directories: safetensors weights beside a JSON config. Nothing is unpickled.

    model.save_pretrained("out/model")      # out/model/{config.json, model.safetensors}
    model = cpc.load_pretrained("out/model")
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Union

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .config import ConfigError, CPCConfig

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT = "cpc-pretrained"
FORMAT_VERSION = 1


def atomic_write(path: Union[str, Path], write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``.

    A reader never sees a half-written file: either the old one or the complete new one.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_pretrained(model: torch.nn.Module, directory: Union[str, Path]) -> Path:
    """Write ``model`` (a :class:`cpc.CPCModel`) to ``directory``; returns the directory."""
    from . import __version__

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "cpc_version": __version__}
    str_meta = {k: str(v) for k, v in meta.items()}  # safetensors metadata is str -> str
    atomic_write(directory / WEIGHTS_NAME, lambda tmp: save_file(tensors, tmp, metadata=str_meta))
    doc = dict(meta, config=model.cfg.to_dict())
    text = json.dumps(doc, indent=2) + "\n"
    atomic_write(directory / CONFIG_NAME, lambda tmp: Path(tmp).write_text(text))
    return directory


def read_config(directory: Union[str, Path]) -> CPCConfig:
    """The :class:`CPCConfig` saved in a pretrained model directory."""
    path = Path(directory) / CONFIG_NAME
    if not Path(directory).is_dir():
        raise FileNotFoundError(f"{directory}: no such model directory")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; is {directory} a directory from save_pretrained?")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{path}: not a cpc model config (no \"format\": \"{FORMAT}\")")
    if doc.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path}: format version {doc['format_version']} is newer than this cpc reads "
            f"({FORMAT_VERSION}); upgrade cpc"
        )
    try:
        return CPCConfig.from_dict(doc.get("config", {}))
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def load_pretrained(directory: Union[str, Path], device: Union[str, torch.device] = "cpu"):
    """Build a :class:`cpc.CPCModel` from a directory written by ``save_pretrained``."""
    from .model import CPCModel

    cfg = read_config(directory)
    path = Path(directory) / WEIGHTS_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing weights file")
    try:
        state = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError) as e:
        raise ValueError(f"{path}: cannot read weights ({e})") from None
    model = CPCModel(cfg).to(device)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as e:  # a shape mismatch
        raise ValueError(f"{path}: weights do not match the config in {CONFIG_NAME}: {e}") from None
    if missing or unexpected:
        raise ValueError(
            f"{path}: weights do not match the config in {CONFIG_NAME} "
            f"(missing: {missing[:5]}, unexpected: {unexpected[:5]})"
        )
    model.eval()
    return model
