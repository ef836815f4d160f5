"""Time one CPC training step (forward + backward + Adam) and the share spent in the loss.

Usage:
    python bench/train_step.py                          # default model, batch 8 x 20480, CPU
    python bench/train_step.py --device cuda --amp bf16 # on a GPU
    python bench/train_step.py --batch 32 loss.negatives=all context.type=transformer

Prints ms per step, audio seconds processed per wall-clock second, peak memory and the share
of the step taken by InfoNCE (sampling, scoring, loss and its backward), all measured in this
run.  The loss share is the time of the loss alone on the step's own z and predictions,
divided by the time of the whole step.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from contextlib import nullcontext

import torch

import cpc
from cpc.infonce import infonce, sample_negatives


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--samples", type=int, default=20480)
    p.add_argument("--steps", type=int, default=10, help="timed steps")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--amp", choices=["none", "bf16", "fp16"], default="none")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("overrides", nargs="*", metavar="key=value")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    amp = (
        torch.autocast(dev.type, dtype=torch.bfloat16 if args.amp == "bf16" else torch.float16)
        if args.amp != "none" else nullcontext()
    )

    cfg = cpc.apply_overrides(cpc.CPCConfig(), args.overrides)
    torch.manual_seed(0)
    model = cpc.CPCModel(cfg).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    x = 0.1 * torch.randn(args.batch, args.samples, device=dev)
    rss_before = peak_rss_mib()
    if cuda:
        torch.cuda.reset_peak_memory_stats(dev)

    def step():
        with amp:
            out = model(x)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
        return out

    for _ in range(args.warmup):
        out = step()
    sync()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        out = step()
        sync()
        times.append(time.perf_counter() - t0)
    step_s = statistics.median(times)
    peak = (torch.cuda.max_memory_allocated(dev) / 2**20) if cuda else peak_rss_mib()

    # The loss alone, on this step's z and predictions, forward and backward.
    z = out.z.detach().requires_grad_()
    pred = out.predictions.detach().requires_grad_()
    lc = cfg.loss
    B, T, K = pred.shape[:3]

    def loss_only():
        neg = None if lc.negatives == "all" else sample_negatives(
            B, T, K, lc.n_negatives, lc.negatives, exclude_positive=lc.exclude_positive, device=dev
        )
        with amp:
            loss = infonce(z, pred, neg, temperature=lc.temperature).loss
        loss.backward()

    for _ in range(args.warmup):
        loss_only()
    sync()
    loss_times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss_only()
        sync()
        loss_times.append(time.perf_counter() - t0)
    loss_s = statistics.median(loss_times)

    audio_s = args.batch * args.samples / cfg.sample_rate
    device_name = torch.cuda.get_device_name(dev) if cuda else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    figures = {
        "device": device_name,
        "torch": torch.__version__,
        "amp": args.amp,
        "batch": args.batch,
        "samples": args.samples,
        "overrides": args.overrides,
        "parameters": model.num_parameters(),
        "ms_per_step": round(1000 * step_s, 1),
        "ms_per_step_min": round(1000 * min(times), 1),
        "ms_per_step_max": round(1000 * max(times), 1),
        "audio_seconds_per_second": round(audio_s / step_s, 2),
        "peak_memory_mib": round(peak, 1),
        "peak_memory_kind": "torch.cuda.max_memory_allocated" if cuda else "process peak RSS",
        "rss_before_training_mib": None if cuda else round(rss_before, 1),
        "loss_ms": round(1000 * loss_s, 1),
        "loss_share": round(loss_s / step_s, 3),
    }
    print(f"device            {figures['device']} (torch {torch.__version__}, amp {args.amp})")
    print(f"model             {figures['parameters']:,} parameters; {' '.join(args.overrides) or 'defaults'}")
    print(f"batch             {args.batch} x {args.samples} samples ({audio_s:.2f} s of audio)")
    print(f"step              {figures['ms_per_step']} ms median over {args.steps} "
          f"(min {figures['ms_per_step_min']}, max {figures['ms_per_step_max']})")
    print(f"throughput        {figures['audio_seconds_per_second']} audio s per wall s")
    print(f"peak memory       {figures['peak_memory_mib']} MiB ({figures['peak_memory_kind']}"
          + (f"; {figures['rss_before_training_mib']} MiB before the first step)" if not cuda else ")"))
    print(f"loss (fwd+bwd)    {figures['loss_ms']} ms = {100 * figures['loss_share']:.1f}% of the step")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
