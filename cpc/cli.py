"""The ``cpc`` command line.

Usage:
    cpc --version
    cpc info                                    # the CPC paper's model
    cpc info --config model.yaml context.type=transformer loss.n_negatives=64
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from . import __version__
from .config import ConfigError, CPCConfig, apply_overrides


def load_config(path: Optional[str], overrides: Sequence[str]) -> CPCConfig:
    """A config from an optional YAML file plus ``key=value`` overrides."""
    cfg = CPCConfig.from_yaml(path) if path else CPCConfig()
    return apply_overrides(cfg, list(overrides))


def _info(args: argparse.Namespace) -> int:
    from .model import CPCModel

    cfg = load_config(args.config, args.overrides)
    print(CPCModel(cfg).summary())
    if args.show_config:
        print()
        print(cfg.to_yaml(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cpc", description="Contrastive Predictive Coding for audio and time series."
    )
    parser.add_argument("--version", action="version", version=f"cpc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    info = sub.add_parser("info", help="print the model summary for a config")
    info.add_argument("--config", help="YAML config file (default: the CPC paper's model)")
    info.add_argument("--show-config", action="store_true", help="also print the resolved config")
    info.add_argument("overrides", nargs="*", metavar="key=value", help="e.g. context.type=lstm")
    info.set_defaults(func=_info)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ConfigError, FileNotFoundError) as e:
        print(f"cpc {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
