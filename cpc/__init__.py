"""cpc: Contrastive Predictive Coding for audio and time series."""

__version__ = "0.1.0"

from .checkpoint import load_pretrained
from .config import (
    ConfigError,
    ContextConfig,
    CPCConfig,
    EncoderConfig,
    LossConfig,
    PredictorConfig,
    apply_overrides,
)
from .infonce import infonce, sample_negatives
from .model import CPCModel, CPCOutput, StreamState

__all__ = [
    "__version__",
    "CPCConfig",
    "EncoderConfig",
    "ContextConfig",
    "PredictorConfig",
    "LossConfig",
    "ConfigError",
    "apply_overrides",
    "CPCModel",
    "CPCOutput",
    "StreamState",
    "load_pretrained",
    "infonce",
    "sample_negatives",
]
