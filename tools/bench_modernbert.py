#!/usr/bin/python3
"""Time tools/reference.py's ModernBERT forward at ModernBERT-base's shape: the PyTorch peer of
BenchmarkModernBERTForward (model/encoder). Random weights (no files), float32, no grad.

  /usr/bin/python3 tools/bench_modernbert.py [--batch 4] [--seq 512] [--threads 2] [--iters 1]

Shape: 22 layers, hidden 768, 12 heads, GeGLU intermediate 1152, global attention every 3 layers (theta
160000), local window 128 (theta 10000), 50,368 ids; forward + mean pooling + normalisation. Debian's torch
uses its generic BLAS unless libopenblas0-pthread is installed; install it for a fair peer (see ENV.md).
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402


def base_model(vocab=50368, layers=22, hidden=768, heads=12, inter=1152):
    g = torch.Generator().manual_seed(0)
    w = {}

    def rnd(*shape):
        return torch.randn(*shape, generator=g) * 0.02

    w["embeddings.tok_embeddings.weight"] = rnd(vocab, hidden)
    for name in ["embeddings.norm", "final_norm"] + [f"layers.{i}.{n}" for i in range(layers) for n in ("attn_norm", "mlp_norm") if i or n == "mlp_norm"]:
        w[name + ".weight"] = torch.ones(hidden)
    for i in range(layers):
        p = f"layers.{i}."
        w[p + "attn.Wqkv.weight"] = rnd(3 * hidden, hidden)
        w[p + "attn.Wo.weight"] = rnd(hidden, hidden)
        w[p + "mlp.Wi.weight"] = rnd(2 * inter, hidden)
        w[p + "mlp.Wo.weight"] = rnd(hidden, inter)
    m = reference.Model.__new__(reference.Model)
    m.cfg = {"model_type": "modernbert", "vocab_size": vocab, "hidden_size": hidden, "num_hidden_layers": layers,
             "num_attention_heads": heads, "intermediate_size": inter, "hidden_activation": "gelu", "norm_eps": 1e-5,
             "global_attn_every_n_layers": 3, "global_rope_theta": 160000.0, "local_rope_theta": 10000.0,
             "local_attention": 128}
    m.w, m.prefix, m.family, m.kind, m.pooling, m.normalize = w, "", "modernbert", "bi", "mean", True
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m = base_model()
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 50000, (args.batch, args.seq), generator=g)
    ids[:, 0], ids[:, -1] = 50281, 50282
    mask = torch.ones_like(ids)
    with torch.no_grad():
        reference.pool(m, reference.modernbert_hidden(m, ids, mask), mask)  # warm-up
        times = []
        cpu0 = time.process_time()
        for _ in range(args.iters):
            t0 = time.perf_counter()
            reference.pool(m, reference.modernbert_hidden(m, ids, mask), mask)
            times.append(time.perf_counter() - t0)
        cpu = time.process_time() - cpu0
    best = min(times)
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "batch": args.batch, "seq": args.seq,
                      "s_per_batch_best": best, "texts_per_s_best": args.batch / best,
                      "cpu_ms_per_text": 1000 * cpu / (args.batch * args.iters)}))


if __name__ == "__main__":
    sys.exit(main())
