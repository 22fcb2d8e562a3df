#!/usr/bin/env python3
"""sentence-transformers, the peer of scripts/gpu-check.sh, on the same GPU and the same model directory.

  gpu_peer.py train   --model DIR --data qa.csv [--anchor question --positive context] [--steps 20]
                      [--batch-size 32 --grad-accum 16 --lr 2e-5 --warmup-ratio 0.1 --schedule cosine]
                      [--dims 768,512,256,128,64] [--scale 20] [--bf16] [--tf32] [--seed 42] [--device cuda]
  gpu_peer.py compare --model DIR --texts FILE.txt --embeddings FILE.npy [--device cuda]

train: the bge recipe's optimizer step as sentence-transformers' Trainer runs it — MatryoshkaLoss(
MultipleNegativesRankingLoss) over (anchor, positive) batches, gradient accumulation, clipping at 1, AdamW, the
warmup-then-schedule learning rate, torch.autocast(bfloat16) with --bf16 and allow_tf32 with --tf32 — written
as the loop the Trainer runs so that only torch, sentence-transformers and numpy are needed (no datasets or
accelerate). The model is the ragnb-saved directory loaded by SentenceTransformer(DIR): the same random weights
ragnb trains. It prints one JSON object: median seconds per optimizer step over the steps after the first two
(the first ones pay for cuDNN/cuBLAS autotuning and the allocator), pairs per second, and the CUDA caching
allocator's peak allocated and reserved memory.

compare: encodes the texts (one per line) with SentenceTransformer(DIR) — its own modules, pooling and
normalisation — and compares them row by row with ragnb's embeddings of the same texts (`ragnb embed --out
FILE.npy`): min cosine and max absolute difference, as JSON.

Nothing is downloaded: the model is a local directory and HF_HUB_OFFLINE is set.
"""
import argparse
import csv
import json
import math
import os
import random
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def need_st():
    try:
        import sentence_transformers  # noqa: F401
    except ImportError as e:
        sys.exit(f"gpu_peer.py: sentence-transformers is not installed in this Python ({sys.executable}): {e}")


def read_pairs(path, anchor, positive):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        if anchor not in r.fieldnames or positive not in r.fieldnames:
            sys.exit(f"gpu_peer.py: {path} has columns {r.fieldnames}, not {anchor!r} and {positive!r}")
        rows = [(row[anchor], row[positive]) for row in r if row[anchor].strip() and row[positive].strip()]
    if not rows:
        sys.exit(f"gpu_peer.py: {path} has no (anchor, positive) rows")
    return rows


def lr_factor(step, total, warmup, schedule):
    """transformers' get_scheduler: linear warmup over `warmup` steps, then linear/cosine decay to 0 or constant."""
    if step < warmup:
        return step / max(1, warmup)
    if schedule == "constant":
        return 1.0
    progress = (step - warmup) / max(1, total - warmup)
    if schedule == "cosine":
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))
    return max(0.0, 1.0 - progress)


def train(a):
    need_st()
    import torch
    from sentence_transformers import SentenceTransformer, losses

    dev = torch.device(a.device)
    if a.tf32:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(a.seed)
    model = SentenceTransformer(a.model, device=a.device)
    model.train()
    inner = losses.MultipleNegativesRankingLoss(model, scale=a.scale)
    dims = [int(d) for d in a.dims.split(",")] if a.dims else []
    loss_fn = losses.MatryoshkaLoss(model, inner, dims) if dims else inner

    rows = read_pairs(a.data, a.anchor, a.positive)
    rng = random.Random(a.seed)
    rng.shuffle(rows)
    need = a.steps * a.grad_accum * a.batch_size
    while len(rows) < need:
        rows = rows + rows

    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if ("bias" in n or "LayerNorm" in n or "norm" in n.lower()) else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr)
    warmup = math.ceil(a.warmup_ratio * a.steps)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)

    def features(texts):
        f = model.tokenize(texts)
        return {k: v.to(dev) for k, v in f.items()}

    times, losses_seen, i = [], [], 0
    for step in range(a.steps):
        for g in opt.param_groups:
            g["lr"] = a.lr * lr_factor(step, a.steps, warmup, a.schedule)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t0 = time.perf_counter()
        total = 0.0
        for _ in range(a.grad_accum):
            batch = rows[i:i + a.batch_size]
            i += a.batch_size
            q, p = features([b[0] for b in batch]), features([b[1] for b in batch])
            with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=a.bf16):
                loss = loss_fn([q, p], None) / a.grad_accum
            loss.backward()
            total += float(loss.detach())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        times.append(time.perf_counter() - t0)
        losses_seen.append(total)
    steady = sorted(times[2:] if len(times) > 2 else times)
    median = steady[len(steady) // 2] if len(steady) % 2 else (steady[len(steady) // 2 - 1] + steady[len(steady) // 2]) / 2
    out = {
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else str(dev),
        "torch": torch.__version__,
        "steps": a.steps,
        "pairs_per_step": a.batch_size * a.grad_accum,
        "s_per_step": median,
        "first_step_s": times[0],
        "pairs_per_s": a.batch_size * a.grad_accum / median,
        "loss_first": losses_seen[0],
        "loss_last": losses_seen[-1],
        "bf16": a.bf16,
        "tf32": a.tf32,
    }
    if dev.type == "cuda":
        out["peak_allocated_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
        out["peak_reserved_mb"] = torch.cuda.max_memory_reserved(dev) / 2**20
    print(json.dumps(out))


def compare(a):
    need_st()
    import numpy as np
    from sentence_transformers import SentenceTransformer

    with open(a.texts, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f]
    ours = np.load(a.embeddings).astype(np.float64)
    if ours.shape[0] != len(texts):
        sys.exit(f"gpu_peer.py: {a.embeddings} has {ours.shape[0]} rows, {a.texts} {len(texts)} texts")
    model = SentenceTransformer(a.model, device=a.device)
    theirs = model.encode(texts, batch_size=32, convert_to_numpy=True).astype(np.float64)
    if theirs.shape != ours.shape:
        sys.exit(f"gpu_peer.py: sentence-transformers embeds {theirs.shape}, ragnb {ours.shape}")
    cos = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    print(json.dumps({"texts": len(texts), "dim": int(ours.shape[1]), "min_cosine": float(cos.min()),
                      "mean_cosine": float(cos.mean()), "max_abs_diff": float(np.abs(ours - theirs).max())}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--model", required=True)
    t.add_argument("--data", required=True)
    t.add_argument("--anchor", default="question")
    t.add_argument("--positive", default="context")
    t.add_argument("--steps", type=int, default=20)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--grad-accum", type=int, default=16)
    t.add_argument("--lr", type=float, default=2e-5)
    t.add_argument("--warmup-ratio", type=float, default=0.1)
    t.add_argument("--schedule", default="cosine", choices=["linear", "cosine", "constant"])
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--dims", default="768,512,256,128,64")
    t.add_argument("--scale", type=float, default=20.0)
    t.add_argument("--bf16", action="store_true")
    t.add_argument("--tf32", action="store_true")
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--device", default="cuda")
    c = sub.add_parser("compare")
    c.add_argument("--model", required=True)
    c.add_argument("--texts", required=True)
    c.add_argument("--embeddings", required=True)
    c.add_argument("--device", default="cuda")
    a = p.parse_args()
    {"train": train, "compare": compare}[a.cmd](a)


if __name__ == "__main__":
    main()
