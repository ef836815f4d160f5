"""Does the default model leave the uniform loss? Init ablation on speech-scale input.

Usage:
    python bench/init_collapse.py                        # 60 steps, Adam 1e-3, three variants
    python bench/init_collapse.py --steps 100 --lr 2e-4

Trains the default CPC model (512-channel encoder, GRU 256, K = 12, 128 negatives, batch 8 x
20480) on tone segments at rms 0.1 (cpc.synthetic) from the same seed, with the library's
init and with each of its two init choices reverted to PyTorch's default, and prints the loss
and step-1 accuracy. ln 129 = 4.860 is the uniform loss; chance accuracy is 1/129.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

import cpc
from cpc.synthetic import tone_segments

VARIANTS = {
    "library init": [],
    "encoder.init_scale=1": ["encoder.init_scale=1"],
    "predictor.init_scale=1": ["predictor.init_scale=1"],
}


def run(overrides: list[str], steps: int, lr: float, batch: int) -> tuple[float, float, float]:
    torch.manual_seed(0)
    model = cpc.CPCModel(cpc.apply_overrides(cpc.CPCConfig(), overrides))
    data = tone_segments(64, 20480, rms=0.1, seed=1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    acc, losses, t0 = [], [], time.perf_counter()
    for _ in range(steps):
        out = model(data[torch.randint(0, 64, (batch,), generator=g)], generator=g)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        acc.append(out.step_accuracy[0].item())
        losses.append(out.loss.item())
    last = max(1, steps // 10)
    return sum(losses[-last:]) / last, sum(acc[-last:]) / last, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=8)
    args = p.parse_args()
    print(f"default model, Adam {args.lr:g}, {args.steps} steps, batch {args.batch} x 20480, "
          f"tones at rms 0.1; uniform loss {math.log(129):.3f}, chance accuracy {1 / 129:.3f}")
    print("| variant | loss (last 10%) | step-1 accuracy (last 10%) | time |")
    print("|---|---|---|---|")
    for name, overrides in VARIANTS.items():
        loss, acc, secs = run(overrides, args.steps, args.lr, args.batch)
        print(f"| {name} | {loss:.3f} | {acc:.3f} | {secs:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
