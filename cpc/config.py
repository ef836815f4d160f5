"""Configuration: plain nested dataclasses, YAML round trip and dotted overrides.

A config validates itself on construction, so a bad value fails at once with a message naming
the key.  Derived values (``encoder.stride``, ``encoder.receptive_field``) are properties.

    cfg = CPCConfig()                                   # the CPC paper's audio model
    cfg = apply_overrides(cfg, ["context.type=transformer", "loss.n_negatives=64"])
    cfg.to_yaml("model.yaml"); CPCConfig.from_yaml("model.yaml")
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import yaml


class ConfigError(ValueError):
    """A config key is unknown or its value is invalid; the message names the key."""


def _choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(choices)}")


def _positive(key: str, value: float, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{key}: must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")


@dataclass
class EncoderConfig:
    """g_enc: strided 1-D convolutions, each followed by a per-frame norm and ReLU."""

    in_channels: int = 1  # 1 for mono audio; the number of channels of a multichannel series
    channels: int = 512  # CPC paper (van den Oord et al., 2018), section 3.1
    kernels: tuple[int, ...] = (10, 8, 4, 4, 4)  # CPC paper
    strides: tuple[int, ...] = (5, 4, 2, 2, 2)  # 160 samples = 10 ms at 16 kHz
    # Per-frame normalisation over channels (no batch or future statistics: keeps causality).
    norm: str = "channel"  # channel | none
    # One fixed gain applied to every input, kept here so training and extraction agree.  The
    # convolutions carry no bias, so with the channel norm the encoder is scale-invariant up to
    # the norm's epsilon; the gain matters for ``norm: none`` and for very quiet data.
    input_gain: float = 1.0
    # Multiplies PyTorch's default init of the conv weights when a channel norm follows them.
    # The norm makes each conv scale-invariant, so Adam's step relative to the weights is
    # lr / |w|: at the default init of a 512-wide conv (|w| ~ 0.01) that is several percent per
    # step, and the encoder collapses to a constant at Adam 1e-3 (see cpc/encoder.py).
    init_scale: float = 10.0

    def __post_init__(self) -> None:
        self.kernels = tuple(self.kernels)
        self.strides = tuple(self.strides)
        if len(self.kernels) != len(self.strides):
            raise ConfigError(
                f"encoder.kernels {list(self.kernels)} and encoder.strides {list(self.strides)} "
                "must have the same length"
            )
        if not self.kernels:
            raise ConfigError("encoder.kernels: needs at least one layer")
        for i, (k, s) in enumerate(zip(self.kernels, self.strides)):
            if k < 1 or s < 1:
                raise ConfigError(f"encoder layer {i}: kernel {k} and stride {s} must be >= 1")
            if k < s:
                raise ConfigError(
                    f"encoder layer {i}: kernel {k} < stride {s} would skip input samples"
                )
        _positive("encoder.in_channels", self.in_channels)
        _positive("encoder.channels", self.channels)
        _choice("encoder.norm", self.norm, ("channel", "none"))
        _positive("encoder.init_scale", self.init_scale)
        if not (math.isfinite(self.input_gain) and self.input_gain > 0):
            raise ConfigError(f"encoder.input_gain: must be a finite number > 0, got {self.input_gain!r}")

    @property
    def stride(self) -> int:
        """Input samples per output frame (the product of the strides)."""
        return math.prod(self.strides)

    @property
    def receptive_field(self) -> int:
        """Input samples that one output frame depends on."""
        rf, jump = 1, 1
        for k, s in zip(self.kernels, self.strides):
            rf += (k - 1) * jump
            jump *= s
        return rf

    @property
    def dim(self) -> int:
        """Dimension of z."""
        return self.channels


@dataclass
class ContextConfig:
    """g_ar: a causal GRU, LSTM or Transformer over z."""

    type: str = "gru"  # gru | lstm | transformer; the CPC paper uses a GRU
    dim: int = 256  # CPC paper: GRU with 256 hidden units
    layers: int = 1
    # Transformer only.
    heads: int = 4
    ff_dim: int = 1024
    dropout: float = 0.0

    def __post_init__(self) -> None:
        _choice("context.type", self.type, ("gru", "lstm", "transformer"))
        _positive("context.dim", self.dim)
        _positive("context.layers", self.layers)
        _positive("context.heads", self.heads)
        _positive("context.ff_dim", self.ff_dim)
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"context.dropout: must be in [0, 1), got {self.dropout!r}")
        if self.type == "transformer" and self.dim % (2 * self.heads):
            raise ConfigError(
                f"context.dim {self.dim} must be divisible by 2 * context.heads ({2 * self.heads}) "
                "for rotary positions"
            )


@dataclass
class PredictorConfig:
    """The W_k: one bilinear map per prediction step k = 1..n_steps."""

    type: str = "linear"  # linear
    n_steps: int = 12  # K; CPC paper: 12 steps (120 ms) for audio
    # Multiplies PyTorch's default init of W_k: small scores at the start keep the encoder from
    # collapsing to a constant (see cpc/predictor.py).
    init_scale: float = 0.1

    def __post_init__(self) -> None:
        _choice("predictor.type", self.type, ("linear",))
        _positive("predictor.n_steps", self.n_steps)
        _positive("predictor.init_scale", self.init_scale, allow_zero=True)


@dataclass
class LossConfig:
    """InfoNCE: how negatives are drawn and how scores become a loss."""

    # sequence: same sequence | batch: other sequences | mixed: any frame of the batch (CPC
    # paper) | all: no sampling, every frame of the batch is a candidate.
    negatives: str = "mixed"
    n_negatives: int = 128  # CPC paper; unused by ``all``
    # The reference implementation lets the positive appear among its own negatives; we don't.
    exclude_positive: bool = True
    temperature: Optional[float] = None  # scores are divided by it; None = plain dot product

    def __post_init__(self) -> None:
        _choice("loss.negatives", self.negatives, ("sequence", "batch", "mixed", "all"))
        _positive("loss.n_negatives", self.n_negatives)
        if self.temperature is not None and not (
            math.isfinite(self.temperature) and self.temperature > 0
        ):
            raise ConfigError(f"loss.temperature: must be > 0 or null, got {self.temperature!r}")


@dataclass
class CPCConfig:
    """The whole model. Defaults reproduce the CPC paper's audio model."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    context: ContextConfig = field(default_factory=ContextConfig)
    predictor: PredictorConfig = field(default_factory=PredictorConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    sample_rate: int = 16000  # of the input; with stride 160, 100 frames per second

    def __post_init__(self) -> None:
        _positive("sample_rate", self.sample_rate)

    # ----- conversions -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _to_plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CPCConfig":
        return _from_dict(cls, data, prefix="")

    def to_yaml(self, path: Union[str, Path, None] = None) -> str:
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_yaml(cls, path: Union[str, Path]) -> "CPCConfig":
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
        try:
            return cls.from_dict(data)
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "CPCConfig":
        return cls.from_dict(json.loads(text))


# ----- generic helpers ---------------------------------------------------------------------


def _to_plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple):
        return [_to_plain(v) for v in obj]
    return obj


def _from_dict(cls: type, data: Any, prefix: str) -> Any:
    where = prefix.rstrip(".") or "config"
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"unknown key {prefix}{unknown[0]!s} (known keys under {where}: {', '.join(sorted(names))})"
        )
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(value, hints[name], f"{prefix}{name}")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as e:  # pragma: no cover - defensive
        raise ConfigError(f"{where}: {e}") from None


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and convert where lossless."""
    if dataclasses.is_dataclass(tp):
        return _from_dict(tp, value, prefix=key + ".")
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], key)
    if origin is tuple:
        if isinstance(value, str):
            value = [v for v in value.replace(",", " ").split()]
            value = [yaml.safe_load(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return tuple(_coerce(v, args[0], key) for v in value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    return value  # pragma: no cover - every annotation above is handled


def apply_overrides(cfg: Any, overrides: list[str]) -> Any:
    """Return a copy of ``cfg`` with ``key.sub=value`` overrides applied and validated.

    Values are parsed as YAML scalars (``64``, ``1e-3``, ``true``, ``null``, ``[5,4,2]``);
    a comma-separated string is accepted for list fields (``encoder.strides=5,4,2``).
    """
    data = cfg.to_dict()
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected key=value, e.g. loss.n_negatives=64")
        key, raw = item.split("=", 1)
        key = key.strip()
        parts = key.split(".")
        node = data
        for i, part in enumerate(parts[:-1]):
            if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
                raise ConfigError(f"unknown key {'.'.join(parts[: i + 1])} in override {item!r}")
            node = node[part]
        last = parts[-1]
        if last not in node:
            where = ".".join(parts[:-1]) or "config"
            raise ConfigError(
                f"unknown key {key} in override {item!r} (known keys under {where}: "
                f"{', '.join(sorted(node))})"
            )
        if isinstance(node[last], dict):
            raise ConfigError(f"{key} is a section; override one of its keys ({', '.join(node[last])})")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node[last] = value
    return type(cfg).from_dict(data)
