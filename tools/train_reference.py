#!/usr/bin/python3
"""Independent PyTorch reference for ragnb's training (losses, AdamW, schedules, clipping, accumulation).

Written from the published definitions of sentence-transformers' losses (MultipleNegativesRankingLoss with
cos_sim and hard-negative columns, MatryoshkaLoss with its shrink-and-normalise, TripletLoss, the cross-encoder
BinaryCrossEntropyLoss / MSELoss) and of transformers' Trainer optimisation (torch.optim.AdamW with weight decay
off for biases and LayerNorm, clip_grad_norm_, get_linear_schedule_with_warmup / cosine, gradient accumulation
dividing each micro-batch loss by the group size), with plain torch ops in float64. The models come from
tools/reference.py (the encoder parity reference). Needs only Debian's python3-torch and python3-numpy.

  python3 tools/train_reference.py [ROOT]    writes ROOT/train/losses.json, ROOT/train/steps.json and
                                             ROOT/train/<case>.safetensors (ROOT defaults to testdata)
  python3 tools/train_reference.py bench [--threads 2] [--iters 5]
                                             times one training step of a MiniLM-shape BERT (6 layers, hidden
                                             384, 12 heads, FF 1536, dropout 0.1), 32 pairs of 128 tokens, MNRL
                                             inside Matryoshka 384/256/128/64, clip_grad_norm_, AdamW — in float32
                                             with torch's own modules (the speed peer of train's
                                             BenchmarkMiniLMTrainStep)
"""

import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

torch.set_default_dtype(torch.float64)


# ---- losses (sentence-transformers' definitions) ----

def cos_sim(a, b):
    return F.normalize(a, p=2, dim=1) @ F.normalize(b, p=2, dim=1).T


def mnrl(cols, scale=20.0):
    anchors, docs = cols[0], torch.cat(cols[1:], dim=0)
    scores = cos_sim(anchors, docs) * scale
    labels = torch.arange(anchors.shape[0])
    return F.cross_entropy(scores, labels)


def matryoshka_loss(cols, inner, dims, weights):
    pairs = sorted(zip(dims, weights), key=lambda x: x[0], reverse=True)
    total = 0.0
    for d, w in pairs:
        total = total + w * inner([F.normalize(c[:, :d], p=2, dim=-1) for c in cols])
    return total


def triplet(cols, metric, margin):
    a, p, n = cols
    if metric == "euclidean":
        dist = lambda x, y: torch.sqrt(((x - y) ** 2).sum(-1))
    elif metric == "cosine":
        dist = lambda x, y: 1 - (F.normalize(x, dim=-1) * F.normalize(y, dim=-1)).sum(-1)
    else:
        dist = lambda x, y: (x - y).abs().sum(-1)
    return F.relu(dist(a, p) - dist(a, n) + margin).mean()


def bce(logits, labels, pos_weight):
    pw = None if pos_weight is None else torch.tensor(pos_weight)
    return F.binary_cross_entropy_with_logits(logits, labels, pos_weight=pw)


def mse(logits, targets, activation):
    x = torch.sigmoid(logits) if activation == "sigmoid" else logits
    return F.mse_loss(x, targets)


def losses_golden():
    rng = np.random.RandomState(20251121)
    emb = lambda n, d: rng.normal(size=(n, d)).tolist()
    cases = []

    def add(name, kind, inputs, params, fn, rows=None):
        ts = [torch.tensor(x, requires_grad=True) for x in inputs]
        used = ts if rows is None else [t[:rows] for t in ts]
        loss = fn(used)
        loss.backward()
        cases.append({"name": name, "kind": kind, "params": params, "inputs": inputs, "rows": rows,
                      "loss": loss.item(), "grads": [t.grad.tolist() for t in ts]})

    cols = [emb(6, 8) for _ in range(3)]
    add("mnrl_triplets", "mnrl", cols, {"scale": 20.0}, lambda c: mnrl(c, 20.0))
    add("mnrl_pairs_scale_7", "mnrl", cols[:2], {"scale": 7.0}, lambda c: mnrl(c, 7.0))
    # Only the first 4 rows are real: the padded batch must give the loss of the 4-row batch.
    add("mnrl_4_of_6_rows", "mnrl", cols, {"scale": 20.0}, lambda c: mnrl(c, 20.0), rows=4)
    add("matryoshka_mnrl", "matryoshka", cols, {"scale": 20.0, "dims": [4, 8, 2], "weights": [0.5, 1.0, 2.0]},
        lambda c: matryoshka_loss(c, lambda x: mnrl(x, 20.0), [4, 8, 2], [0.5, 1.0, 2.0]))
    for metric, margin in [("euclidean", 5.0), ("cosine", 0.5), ("manhattan", 3.0)]:
        add("triplet_" + metric, "triplet", cols, {"metric": metric, "margin": margin},
            lambda c, m=metric, g=margin: triplet(c, m, g))
    add("matryoshka_triplet", "matryoshka_triplet", cols, {"metric": "euclidean", "margin": 1.0, "dims": [8, 3], "weights": [1.0, 1.0]},
        lambda c: matryoshka_loss(c, lambda x: triplet(x, "euclidean", 1.0), [8, 3], [1.0, 1.0]))
    logits = (rng.normal(size=7) * 3).tolist()
    labels = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    scores = rng.uniform(size=7).tolist()
    for pw in [None, 3.0]:
        cases.append(ce_case("bce_pos_weight_%s" % pw, "bce", logits, labels, {"pos_weight": pw or 0.0},
                             lambda x, y, p=pw: bce(x, y, p)))
    for act in ["sigmoid", "identity"]:
        cases.append(ce_case("mse_" + act, "mse", logits, scores, {"activation": act}, lambda x, y, a=act: mse(x, y, a)))
    cases.append(ce_case("bce_5_of_7_rows", "bce", logits, labels, {"pos_weight": 0.0}, lambda x, y: bce(x, y, None), rows=5))
    return cases


def ce_case(name, kind, logits, labels, params, fn, rows=None):
    x = torch.tensor(logits, requires_grad=True)
    y = torch.tensor(labels)
    n = len(logits) if rows is None else rows
    loss = fn(x[:n], y[:n])
    loss.backward()
    return {"name": name, "kind": kind, "params": params, "inputs": [logits], "labels": labels, "rows": rows,
            "loss": loss.item(), "grads": [x.grad.tolist()]}


# ---- training steps (transformers' Trainer optimisation) ----

def lr_factor(kind, step, warmup, total):
    if step < warmup:
        return step / max(1, warmup)
    if kind == "linear":
        return max(0.0, (total - step) / max(1, total - warmup))
    if kind == "cosine":
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))
    return 1.0


def no_decay(name):
    import re
    return re.search(r"bias|layernorm|rmsnorm|(?:^|\.)norm(?:$|\.)|_norm(?:$|\.)", name.lower()) is not None


def padded(seqs):
    n, S = len(seqs), max(len(s["ids"]) for s in seqs)
    ids = torch.zeros(n, S, dtype=torch.long)
    types = torch.zeros(n, S, dtype=torch.long)
    mask = torch.zeros(n, S, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s["ids"])] = torch.tensor(s["ids"])
        if s.get("types"):
            types[i, :len(s["types"])] = torch.tensor(s["types"])
        mask[i, :len(s["ids"])] = 1
    return ids, types, mask


def forward(m, seqs):
    if m.kind == "static":
        return reference.static_embed(m, [s["ids"] for s in seqs])
    ids, types, mask = padded(seqs)
    hidden = reference.bert_hidden(m, ids, types, mask)
    if m.kind == "bi":
        return reference.pool(m, hidden, mask)
    return reference.cross_logits(m, hidden)[:, 0]


def train_case(root, case):
    m = reference.Model(os.path.join(root, "models", case["model"]))
    params = {k: v.clone().requires_grad_(True) for k, v in m.w.items() if v.is_floating_point()}
    m.w.update(params)
    names = sorted(params)
    used = set()
    cfg = case["config"]
    decay = [params[n] for n in names if not no_decay(n)]
    nodecay = [params[n] for n in names if no_decay(n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weight_decay"]},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=cfg["lr"], betas=(0.9, 0.999), eps=1e-8)
    total = len(case["steps"])
    warmup = math.ceil(cfg["warmup_ratio"] * total)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(cfg["schedule"], s, warmup, total))
    step_losses = []
    for micros in case["steps"]:
        total_loss = 0.0
        for b in micros:
            outs = [forward(m, col) for col in b["columns"]]
            if case["loss"] == "mnrl":
                loss = mnrl(outs, cfg["scale"])
            elif case["loss"] == "matryoshka_mnrl":
                loss = matryoshka_loss(outs, lambda x: mnrl(x, cfg["scale"]), cfg["dims"], cfg["weights"])
            elif case["loss"] == "bce":
                loss = bce(outs[0], torch.tensor(b["labels"]), None)
            else:
                loss = mse(outs[0], torch.tensor(b["labels"]), "sigmoid")
            (loss / len(micros)).backward()
            total_loss += loss.item() / len(micros)
        norm = torch.nn.utils.clip_grad_norm_([p for p in params.values() if p.grad is not None], cfg["max_grad_norm"])
        for n in names:
            if params[n].grad is not None:
                used.add(n)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step_losses.append({"loss": total_loss, "grad_norm": norm.item()})
    final = {n: params[n].detach() for n in names}
    write_safetensors(os.path.join(root, "train", case["name"] + ".safetensors"), final)
    return step_losses, sorted(used)


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name].to(torch.float32).numpy().astype("<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def seqs(rng, n, lo, hi, vocab, special=True, pair=False):
    out = []
    for _ in range(n):
        k = rng.randint(lo, hi + 1)
        ids = rng.randint(3, vocab, size=k).tolist()
        if pair:
            cut = rng.randint(1, k)
            s = {"ids": [1] + ids[:cut] + [2] + ids[cut:] + [2]}
            s["types"] = [0] * (cut + 2) + [1] * (k - cut + 1)
            out.append(s)
        elif special:
            out.append({"ids": [1] + ids + [2]})
        else:
            out.append({"ids": ids})
    return out


def steps_golden(root):
    rng = np.random.RandomState(7)
    cases = []
    # Static model: Matryoshka(MNRL) with a hard-negative column, two micro-batches per step (the second of
    # step 3 smaller than the batch size), weight decay on the embedding matrix, linear warmup, clipping.
    static_steps = []
    for step in range(4):
        micros = []
        for k in range(2):
            n = 3 if (step == 2 and k == 1) else 6
            micros.append({"columns": [seqs(rng, n, 1, 5, 143, special=False) for _ in range(3)]})
        static_steps.append(micros)
    cases.append({"name": "static_matryoshka", "model": "tiny-static", "loss": "matryoshka_mnrl", "batch_size": 6,
                  "config": {"lr": 0.05, "weight_decay": 0.01, "warmup_ratio": 0.25, "schedule": "linear",
                             "max_grad_norm": 1.0, "scale": 20.0, "dims": [8, 16, 4], "weights": [1.0, 1.0, 0.5]},
                  "steps": static_steps})
    # BERT bi-encoder (mean pooling + Normalize): MNRL on pairs, cosine schedule, weight decay except biases and
    # LayerNorm, tight clipping; the last batch smaller.
    bert_steps = []
    for step in range(3):
        n = 4 if step == 2 else 5
        bert_steps.append([{"columns": [seqs(rng, n, 2, 8, 143), seqs(rng, n, 4, 14, 143)]}])
    cases.append({"name": "bert_mnrl", "model": "tiny-bert-mean", "loss": "matryoshka_mnrl", "batch_size": 5,
                  "config": {"lr": 2e-3, "weight_decay": 0.1, "warmup_ratio": 0.0, "schedule": "cosine",
                             "max_grad_norm": 0.5, "scale": 20.0, "dims": [32, 16], "weights": [1.0, 1.0]},
                  "steps": bert_steps})
    # Cross-encoder: BCE on 0/1 labels, then MSE against scores.
    for loss in ["bce", "mse"]:
        ce_steps = []
        for step in range(3):
            n = 6
            labels = rng.randint(0, 2, size=n).astype(float).tolist() if loss == "bce" else rng.uniform(size=n).tolist()
            ce_steps.append([{"columns": [seqs(rng, n, 3, 12, 143, pair=True)], "labels": labels}])
        cases.append({"name": "cross_" + loss, "model": "tiny-cross", "loss": loss, "batch_size": 6,
                      "config": {"lr": 1e-3, "weight_decay": 0.01, "warmup_ratio": 0.5, "schedule": "linear",
                                 "max_grad_norm": 1.0},
                      "steps": ce_steps})
    for c in cases:
        c["expected"], c["trained"] = train_case(root, c)
    return cases


class BertLayer(torch.nn.Module):
    def __init__(self, h, a, ff, p):
        super().__init__()
        self.a, self.d, self.p = a, h // a, p
        self.q, self.k, self.v, self.o = (torch.nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = torch.nn.LayerNorm(h, eps=1e-12), torch.nn.LayerNorm(h, eps=1e-12)
        self.ff1, self.ff2 = torch.nn.Linear(h, ff), torch.nn.Linear(ff, h)

    def forward(self, x, bias):
        B, S, H = x.shape
        heads = lambda t: t.view(B, S, self.a, self.d).transpose(1, 2)
        scores = heads(self.q(x)) @ heads(self.k(x)).transpose(-1, -2) / math.sqrt(self.d) + bias
        probs = F.dropout(torch.softmax(scores, -1), self.p, self.training)
        ctx = (probs @ heads(self.v(x))).transpose(1, 2).reshape(B, S, H)
        x = self.ln1(x + F.dropout(self.o(ctx), self.p, self.training))
        return self.ln2(x + F.dropout(self.ff2(F.gelu(self.ff1(x))), self.p, self.training))


class MiniBert(torch.nn.Module):
    """BertModel's math with torch modules (the layout transformers uses), mean pooling."""

    def __init__(self, vocab=30522, h=384, layers=6, a=12, ff=1536, positions=512, p=0.1):
        super().__init__()
        self.words, self.pos = torch.nn.Embedding(vocab, h), torch.nn.Embedding(positions, h)
        self.types = torch.nn.Embedding(2, h)
        self.ln = torch.nn.LayerNorm(h, eps=1e-12)
        self.layers = torch.nn.ModuleList(BertLayer(h, a, ff, p) for _ in range(layers))
        self.p = p

    def forward(self, ids, mask):
        S = ids.shape[1]
        x = self.words(ids) + self.pos(torch.arange(S))[None] + self.types(torch.zeros_like(ids))
        x = F.dropout(self.ln(x), self.p, self.training)
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, bias)
        m = mask[..., None].float()
        return (x * m).sum(1) / m.sum(1).clamp(min=1e-9)


def bench(threads, iters):
    torch.set_num_threads(threads)
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(0)
    model = MiniBert().train()
    names = [n for n, _ in model.named_parameters()]
    decay = [p for n, p in model.named_parameters() if not no_decay(n) and "ln" not in n]
    nodecay = [p for n, p in model.named_parameters() if no_decay(n) or "ln" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.0}, {"params": nodecay, "weight_decay": 0.0}], lr=5e-5)
    g = torch.Generator().manual_seed(0)
    ids = [torch.randint(1000, 30000, (32, 128), generator=g) for _ in range(2)]
    mask = torch.ones(32, 128, dtype=torch.long)

    def step():
        outs = [model(i, mask) for i in ids]
        loss = matryoshka_loss(outs, lambda x: mnrl(x, 20.0), [384, 256, 128, 64], [1.0] * 4)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    step()  # warm-up
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"torch": torch.__version__, "threads": threads, "params": sum(p.numel() for p in model.parameters()),
                      "tensors": len(names), "s_per_step_mean": sum(times) / len(times), "s_per_step_best": min(times)}))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "bench":
        import argparse
        ap = argparse.ArgumentParser()
        ap.add_argument("--threads", type=int, default=2)
        ap.add_argument("--iters", type=int, default=5)
        a = ap.parse_args(sys.argv[2:])
        bench(a.threads, a.iters)
        return
    root = sys.argv[1] if len(sys.argv) > 1 else "testdata"
    os.makedirs(os.path.join(root, "train"), exist_ok=True)
    tool = "tools/train_reference.py (torch %s, float64)" % torch.__version__
    with open(os.path.join(root, "train", "losses.json"), "w") as f:
        json.dump({"tool": tool, "cases": losses_golden()}, f)
    with open(os.path.join(root, "train", "steps.json"), "w") as f:
        json.dump({"tool": tool, "cases": steps_golden(root)}, f)
    print("wrote", os.path.join(root, "train"))


if __name__ == "__main__":
    main()
