#!/usr/bin/python3
"""The PyTorch peer of `ragnb bench --peer`: the same shapes with torch's own modules in float32, timed the same
way (one warm-up, then the median of --repeat runs), printed as one JSON object with ragnb's keys:

  train_step_s            MiniLM-shape BERT (tools/train_reference.py's MiniBert: 6 layers, 384, 12 heads, FF 1536,
                          dropout 0.1), 32 pairs x 128 tokens, MNRL (scale 20) in Matryoshka 384/256/128/64, clip 1,
                          AdamW — measured in a child process that runs nothing else, for train_step_peak_rss_mb
  embed_texts_per_s       the same model in eval mode, 64 texts x 128 tokens, mean pooling, no grad
  static_step_s           nn.EmbeddingBag(30522, 256, mean), 64 pairs of 16 / 64 tokens, MNRL in Matryoshka 256/128/64
  modernbert_forward_s    tools/bench_modernbert.py's ModernBERT (tools/reference.py's math) at ModernBERT-base shape, 4 x 512
                          tokens, forward + mean pooling + normalisation, no grad
  search_s                exact top-100 of 1,000 x 100,000 x 384 unit vectors: FAISS IndexFlatIP when python3-faiss is
                          installed, else torch matmul + topk in blocks (said in "search_engine")

  /usr/bin/python3 tools/bench_peer.py [--threads 2] [--repeat 3] [--quick] [--only KEY,...]

Debian's torch uses the reference BLAS unless libopenblas0-pthread is installed (then the BLAS alternative is
OpenBLAS); --threads sets torch.set_num_threads. --quick shrinks every shape as `ragnb bench --quick` does.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_reference import MiniBert, matryoshka_loss, mnrl  # noqa: E402
import bench_modernbert  # noqa: E402
import reference  # noqa: E402


def shapes(quick):
    if quick:
        return dict(vocab=1000, layers=2, hidden=32, heads=2, ff=64, pairs=4, length=16, dims=[32, 16], texts=8,
                    sdim=32, spairs=8, sq=8, sp=16, sdims=[32, 16], nq=20, nc=2000, sd=32, k=10,
                    mb=dict(vocab=1000, layers=3, hidden=32, heads=2, inter=48), mb_local=8, mb_texts=2, mb_len=32)
    return dict(vocab=30522, layers=6, hidden=384, heads=12, ff=1536, pairs=32, length=128, dims=[384, 256, 128, 64],
                texts=64, sdim=256, spairs=64, sq=16, sp=64, sdims=[256, 128, 64], nq=1000, nc=100_000, sd=384, k=100,
                mb=dict(), mb_local=128, mb_texts=4, mb_len=512)


def median(repeat, fn):
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


def train_step(s, repeat):
    torch.manual_seed(0)
    model = MiniBert(vocab=s["vocab"], h=s["hidden"], layers=s["layers"], a=s["heads"], ff=s["ff"]).train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.0)
    g = torch.Generator().manual_seed(0)
    ids = [torch.randint(3, s["vocab"], (s["pairs"], s["length"]), generator=g) for _ in range(2)]
    mask = torch.ones(s["pairs"], s["length"], dtype=torch.long)

    def step():
        loss = matryoshka_loss([model(i, mask) for i in ids], lambda x: mnrl(x, 20.0), s["dims"], [1.0] * len(s["dims"]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    return median(repeat, step)


def embed(s, repeat):
    torch.manual_seed(0)
    model = MiniBert(vocab=s["vocab"], h=s["hidden"], layers=s["layers"], a=s["heads"], ff=s["ff"]).eval()
    ids = torch.randint(3, s["vocab"], (s["texts"], s["length"]))
    mask = torch.ones_like(ids)

    def run():
        with torch.no_grad():
            F.normalize(model(ids, mask), dim=-1)

    return s["texts"] / median(repeat, run)


def static_step(s, repeat):
    torch.manual_seed(0)
    bag = torch.nn.EmbeddingBag(s["vocab"], s["sdim"], mode="mean")
    opt = torch.optim.AdamW(bag.parameters(), lr=0.05, weight_decay=0.0)
    q = torch.randint(3, s["vocab"], (s["spairs"], s["sq"]))
    p = torch.randint(3, s["vocab"], (s["spairs"], s["sp"]))

    def step():
        loss = matryoshka_loss([bag(q), bag(p)], lambda x: mnrl(x, 20.0), s["sdims"], [1.0] * len(s["sdims"]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(bag.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    return median(repeat, step)


def search(s, repeat, out):
    g = torch.Generator().manual_seed(1)
    corpus = F.normalize(torch.randn(s["nc"], s["sd"], generator=g), dim=-1).contiguous()
    queries = F.normalize(torch.randn(s["nq"], s["sd"], generator=g), dim=-1).contiguous()
    try:
        import faiss
        faiss.omp_set_num_threads(torch.get_num_threads())
        index = faiss.IndexFlatIP(s["sd"])
        index.add(corpus.numpy())
        out["search_engine"] = "faiss %s IndexFlatIP" % faiss.__version__
        return median(repeat, lambda: index.search(queries.numpy(), s["k"]))
    except ImportError:
        out["search_engine"] = "torch matmul + topk (python3-faiss not installed)"

        def run():
            for i in range(0, s["nq"], 256):
                torch.topk(queries[i:i + 256] @ corpus.T, s["k"], dim=1)

        return median(repeat, run)


def modernbert_forward(s, repeat):
    m = bench_modernbert.base_model(**s["mb"])
    m.cfg["local_attention"] = s["mb_local"]
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, m.cfg["vocab_size"], (s["mb_texts"], s["mb_len"]), generator=g)
    mask = torch.ones_like(ids)

    def run():
        with torch.no_grad():
            reference.pool(m, reference.modernbert_hidden(m, ids, mask), mask)

    return median(repeat, run)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_default_dtype(torch.float32)
    s = shapes(a.quick)
    only = [k for k in a.only.split(",") if k]
    want = lambda k: not only or k in only
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    if a.child:
        out["train_step_s"] = train_step(s, a.repeat)
        print(json.dumps(out))
        return
    if want("train_step_s"):
        args = [sys.executable, os.path.abspath(__file__), "--child", "--threads", str(a.threads), "--repeat", str(a.repeat)]
        if a.quick:
            args.append("--quick")
        child = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
        out["train_step_s"] = child["train_step_s"]
        out["train_step_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if want("embed_texts_per_s"):
        out["embed_texts_per_s"] = embed(s, a.repeat)
    if want("static_step_s"):
        out["static_step_s"] = static_step(s, a.repeat)
    if want("search_s"):
        out["search_s"] = search(s, a.repeat, out)
    if want("modernbert_forward_s"):
        out["modernbert_forward_s"] = modernbert_forward(s, a.repeat)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
