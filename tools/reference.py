#!/usr/bin/python3
"""Independent PyTorch reference for ragnb's encoder models (parity goldens and a speed peer).

Written from the published math of Hugging Face transformers' BertModel / BertForSequenceClassification,
XLMRobertaModel / XLMRobertaForSequenceClassification, ModernBertModel / ModernBertForSequenceClassification
and sentence-transformers' Pooling, Normalize and StaticEmbedding, with plain torch ops. It reads model
directories as sentence-transformers lays them out (config.json, modules.json, 1_Pooling/config.json,
model.safetensors) with its own safetensors parser, so it also checks that ragnb's files are readable
outside ragnb. Needs only Debian's python3-torch and python3-numpy.

  golden [ROOT]   evaluate ROOT/golden/inputs.json (written by `go run ./tools/goldens`) on the models in
                  ROOT/models and write ROOT/golden/reference.json (ROOT defaults to testdata)
  bench --model DIR [--batch 32] [--seq 128] [--threads 2] [--iters 5]
                  forward-only texts/s of the model at a fixed sequence length (float32, no grad)
"""

import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """Parse a safetensors file: u64 header length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        if e["dtype"] == "BF16":
            raw = np.frombuffer(body[begin:end], dtype=np.uint16).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        else:
            arr = np.frombuffer(body[begin:end], dtype=DTYPES[e["dtype"]])
        out[name] = torch.from_numpy(arr.reshape(e["shape"]).copy())
    return out


class Model:
    """A model directory: kind, config, weights (float64 for goldens, float32 for benchmarks)."""

    def __init__(self, path, dtype=torch.float64):
        self.path = path
        modules = []
        if os.path.exists(os.path.join(path, "modules.json")):
            with open(os.path.join(path, "modules.json")) as f:
                modules = json.load(f)
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        self.normalize = "Normalize" in types
        if "StaticEmbedding" in types:
            self.kind = "static"
            sub = modules[types.index("StaticEmbedding")]["path"]
            self.w = {k: v.to(dtype) for k, v in read_safetensors(os.path.join(path, sub, "model.safetensors")).items()}
            return
        with open(os.path.join(path, "config.json")) as f:
            self.cfg = json.load(f)
        self.w = {k: v.to(dtype) if v.is_floating_point() else v for k, v in read_safetensors(os.path.join(path, "model.safetensors")).items()}
        self.family = {"xlm-roberta": "xlmr", "roberta": "xlmr", "modernbert": "modernbert"}.get(self.cfg["model_type"], "bert")
        if any(a.endswith("ForSequenceClassification") for a in self.cfg.get("architectures", [])):
            self.kind, self.prefix = "cross", {"bert": "bert.", "xlmr": "roberta.", "modernbert": "model."}[self.family]
            return
        self.kind, self.prefix = "bi", ""
        self.pooling = "mean"
        if "Pooling" in types:
            with open(os.path.join(path, modules[types.index("Pooling")]["path"], "config.json")) as f:
                pc = json.load(f)
            if "pooling_mode" in pc:
                self.pooling = pc["pooling_mode"]
            else:
                modes = [m for k, m in [("pooling_mode_cls_token", "cls"), ("pooling_mode_max_tokens", "max"),
                                        ("pooling_mode_mean_tokens", "mean")] if pc.get(k)]
                assert len(modes) == 1, modes
                self.pooling = modes[0]

    def W(self, name):
        return self.w[self.prefix + name]

    def has(self, name):
        return self.prefix + name in self.w

    def head(self):
        """The same weights seen from the task head: names without the encoder prefix."""
        h = Model.__new__(Model)
        h.__dict__.update(self.__dict__)
        h.prefix = ""
        return h


def linear(x, m, name):
    # torch.nn.Linear: weight is [out, in]; ModernBERT's layers have a bias only when the config says so.
    y = x @ m.W(name + ".weight").T
    return y + m.W(name + ".bias") if m.has(name + ".bias") else y


def layer_norm(x, m, name, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)  # biased, as torch.nn.LayerNorm
    y = (x - mean) / torch.sqrt(var + eps) * m.W(name + ".weight")
    return y + m.W(name + ".bias") if m.has(name + ".bias") else y


def activation(name, x):
    if name == "gelu":  # transformers' "gelu" is the exact erf form
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "relu":
        return torch.clamp(x, min=0)
    raise ValueError(name)


def roberta_positions(ids, pad):
    """RoBERTa's create_position_ids_from_input_ids: pad + running count of non-pad tokens; pads get pad."""
    keep = (ids != pad).long()
    return torch.cumsum(keep, dim=1) * keep + pad


def bert_hidden(m, ids, types, mask):
    """BertModel's (or XLMRobertaModel's) last hidden state for right-padded [B, S] ids, token types and 0/1
    mask. The RoBERTa family counts positions from pad_token_id + 1 and has one token type."""
    c = m.cfg
    B, S = ids.shape
    H, A = c["hidden_size"], c["num_attention_heads"]
    D = H // A
    eps = c["layer_norm_eps"]
    if m.family == "xlmr":
        pos = roberta_positions(ids, c["pad_token_id"])
        types = torch.zeros_like(ids)
    else:
        pos = torch.arange(S)[None].expand(B, S)
    x = m.W("embeddings.word_embeddings.weight")[ids] + m.W("embeddings.position_embeddings.weight")[pos] \
        + m.W("embeddings.token_type_embeddings.weight")[types]
    x = layer_norm(x, m, "embeddings.LayerNorm", eps)
    # Extended attention mask: 0 where attended, the float32 minimum where padded (as transformers).
    ext = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(torch.float32).min
    for i in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        def heads(t):
            return t.view(B, S, A, D).permute(0, 2, 1, 3)
        q = heads(linear(x, m, p + "attention.self.query"))
        k = heads(linear(x, m, p + "attention.self.key"))
        v = heads(linear(x, m, p + "attention.self.value"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(D) + ext
        probs = torch.softmax(scores, dim=-1)
        ctx = (probs @ v).permute(0, 2, 1, 3).reshape(B, S, H)
        a = layer_norm(linear(ctx, m, p + "attention.output.dense") + x, m, p + "attention.output.LayerNorm", eps)
        inter = activation(c["hidden_act"], linear(a, m, p + "intermediate.dense"))
        x = layer_norm(linear(inter, m, p + "output.dense") + a, m, p + "output.LayerNorm", eps)
    return x


def act_fn(name):
    if name in ("silu", "swish"):
        return lambda x: x * torch.sigmoid(x)
    return lambda x: activation(name, x)


def modernbert_layout(c):
    """Per layer: (global?, rope theta), from either config form."""
    L = c["num_hidden_layers"]
    if c.get("layer_types"):
        full = [t == "full_attention" for t in c["layer_types"]]
    else:
        every = c.get("global_attn_every_n_layers") or 3
        full = [i % every == 0 for i in range(L)]
    rp = c.get("rope_parameters")
    if rp is not None or c.get("layer_types"):
        rp = rp or {}
        tf = rp.get("full_attention", {}).get("rope_theta") or c.get("global_rope_theta") or 160000.0
        ts = rp.get("sliding_attention", {}).get("rope_theta") or c.get("local_rope_theta") or 10000.0
    else:
        tf = c.get("global_rope_theta") or 160000.0
        ts = c.get("local_rope_theta") or tf  # transformers 4.x: local_rope_theta None means the global theta
    return [(f, tf if f else ts) for f in full]


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def modernbert_hidden(m, ids, mask):
    """ModernBertModel's last hidden state (after final_norm) for right-padded [B, S] ids and 0/1 mask."""
    c = m.cfg
    B, S = ids.shape
    H, A = c["hidden_size"], c["num_attention_heads"]
    D = H // A
    eps = c.get("norm_eps", 1e-5)
    act = act_fn(c.get("hidden_activation", "gelu"))
    dt = m.W("embeddings.tok_embeddings.weight").dtype
    x = layer_norm(m.W("embeddings.tok_embeddings.weight")[ids], m, "embeddings.norm", eps)
    pos = torch.arange(S, dtype=torch.float64)
    idx = torch.arange(S)
    near = (idx[:, None] - idx[None, :]).abs() <= c.get("local_attention", 128) // 2
    keys = mask[:, None, None, :].bool()
    for i, (full, theta) in enumerate(modernbert_layout(c)):
        p = f"layers.{i}."
        inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
        ang = torch.cat([pos[:, None] * inv[None], pos[:, None] * inv[None]], dim=-1)
        cos, sin = ang.cos().to(dt), ang.sin().to(dt)
        h = x if i == 0 else layer_norm(x, m, p + "attn_norm", eps)
        qkv = linear(h, m, p + "attn.Wqkv").view(B, S, 3, A, D)
        q, k, v = (qkv[:, :, j].transpose(1, 2) for j in range(3))
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        scores = q @ k.transpose(-1, -2) * D ** -0.5
        allowed = keys if full else keys & near[None, None]
        scores = scores.masked_fill(~allowed, torch.finfo(dt).min)
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, S, H)
        x = x + linear(ctx, m, p + "attn.Wo")
        inp, gate = linear(layer_norm(x, m, p + "mlp_norm", eps), m, p + "mlp.Wi").chunk(2, dim=-1)
        x = x + linear(act(inp) * gate, m, p + "mlp.Wo")
    return layer_norm(x, m, "final_norm", eps)


def hidden_states(m, ids, types, mask):
    if m.family == "modernbert":
        return modernbert_hidden(m, ids, mask)
    return bert_hidden(m, ids, types, mask)


def pool(m, hidden, mask):
    """sentence-transformers Pooling (+ Normalize when the model has it)."""
    if m.pooling == "cls":
        out = hidden[:, 0]
    elif m.pooling == "mean":
        mk = mask[..., None].to(hidden.dtype)
        out = (hidden * mk).sum(1) / torch.clamp(mk.sum(1), min=1e-9)
    elif m.pooling == "max":
        mk = mask[..., None].expand(hidden.shape)
        out = torch.where(mk > 0, hidden, torch.full_like(hidden, -1e9)).max(1).values
    else:
        raise ValueError(m.pooling)
    if m.normalize:
        out = out / torch.clamp(out.norm(dim=-1, keepdim=True), min=1e-12)
    return out


def cross_logits(m, hidden, mask):
    h = m.head()
    if m.family == "xlmr":  # XLMRobertaClassificationHead on the first token
        return linear(torch.tanh(linear(hidden[:, 0], h, "classifier.dense")), h, "classifier.out_proj")
    if m.family == "modernbert":
        c = m.cfg
        if c.get("classifier_pooling", "cls") == "mean":
            mk = mask[..., None].to(hidden.dtype)
            pooled = (hidden * mk).sum(1) / mk.sum(1)
        else:
            pooled = hidden[:, 0]
        pooled = layer_norm(act_fn(c.get("classifier_activation", "gelu"))(linear(pooled, h, "head.dense")), h, "head.norm",
                            c.get("norm_eps", 1e-5))
        return linear(pooled, h, "classifier")
    pooled = torch.tanh(linear(hidden[:, 0], m, "pooler.dense"))
    return linear(pooled, h, "classifier")


def static_embed(m, bags):
    """StaticEmbedding: EmbeddingBag(mode="mean") over flat ids with offsets; an empty bag gives zeros."""
    flat = torch.tensor([t for b in bags for t in b], dtype=torch.long)
    offsets = torch.tensor(np.cumsum([0] + [len(b) for b in bags[:-1]]), dtype=torch.long)
    out = torch.nn.functional.embedding_bag(flat, m.w["embedding.weight"], offsets, mode="mean")
    if m.normalize:
        out = out / torch.clamp(out.norm(dim=-1, keepdim=True), min=1e-12)
    return out


def r7(t):
    """A tensor as nested lists of floats rounded to 7 significant digits (float32's precision): the
    rounding (≤ 5e-7 relative) is far below the parity tolerances and halves the golden file."""
    if isinstance(t, torch.Tensor):
        t = t.tolist()
    if isinstance(t, list):
        return [r7(x) for x in t]
    return float("%.7g" % t)


def padded(case, pad=0):
    n = len(case["ids"])
    S = max(len(s) for s in case["ids"])
    ids = torch.full((n, S), pad, dtype=torch.long)
    types = torch.zeros(n, S, dtype=torch.long)
    mask = torch.zeros(n, S, dtype=torch.long)
    for i, s in enumerate(case["ids"]):
        ids[i, : len(s)] = torch.tensor(s)
        types[i, : len(s)] = torch.tensor(case["types"][i])
        mask[i, : len(s)] = 1
    return ids, types, mask


def golden(root):
    with open(os.path.join(root, "golden", "inputs.json")) as f:
        inputs = json.load(f)
    cases = {c["name"]: c for c in inputs["cases"]}
    out = {"tool": "tools/reference.py (torch %s, float64)" % torch.__version__, "results": {}}
    for name, case_names in sorted(inputs["models"].items()):
        m = Model(os.path.join(root, "models", name))
        res = {}
        for cn in case_names:
            case = cases[cn]
            if m.kind == "static":
                res[cn] = {"embeddings": r7(static_embed(m, case["ids"]))}
                continue
            ids, types, mask = padded(case, m.cfg.get("pad_token_id", 0) if m.family == "xlmr" else 0)
            with torch.no_grad():
                hidden = hidden_states(m, ids, types, mask)
                lens = [len(s) for s in case["ids"]]
                # Self-check: each row alone, unpadded, gives what the padded batch gives.
                for i, n in enumerate(lens):
                    alone = hidden_states(m, ids[i : i + 1, :n], types[i : i + 1, :n], mask[i : i + 1, :n])
                    assert (alone[0] - hidden[i, :n]).abs().max() < 1e-9, (name, cn, i)
                r = {"hidden": [r7(hidden[i, : lens[i]]) for i in range(len(lens))]}
                if m.kind == "bi":
                    r["embeddings"] = r7(pool(m, hidden, mask))
                else:
                    r["logits"] = r7(cross_logits(m, hidden, mask)[:, 0])
            res[cn] = r
        out["results"][name] = res
    path = os.path.join(root, "golden", "reference.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", path)


def bench(args):
    torch.set_num_threads(args.threads)
    m = Model(args.model, dtype=torch.float32)
    if m.kind == "static":
        raise SystemExit("bench: BERT models only")
    g = torch.Generator().manual_seed(0)
    vocab = m.cfg["vocab_size"]
    ids = torch.randint(1000, vocab, (args.batch, args.seq), generator=g)
    ids[:, 0], ids[:, -1] = 101, 102
    types = torch.zeros_like(ids)
    mask = torch.ones_like(ids)
    with torch.no_grad():
        hidden_states(m, ids, types, mask)  # warm-up
        times = []
        cpu0 = time.process_time()
        for _ in range(args.iters):
            t0 = time.perf_counter()
            pool(m, hidden_states(m, ids, types, mask), mask)
            times.append(time.perf_counter() - t0)
        cpu = time.process_time() - cpu0
    best, mean = min(times), sum(times) / len(times)
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "batch": args.batch, "seq": args.seq,
                      "texts_per_s_mean": args.batch / mean, "texts_per_s_best": args.batch / best,
                      "cpu_ms_per_text": 1000 * cpu / (args.batch * args.iters),
}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("golden")
    g.add_argument("root", nargs="?", default="testdata")
    b = sub.add_parser("bench")
    b.add_argument("--model", required=True)
    b.add_argument("--batch", type=int, default=32)
    b.add_argument("--seq", type=int, default=128)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--iters", type=int, default=5)
    args = ap.parse_args()
    if args.cmd == "golden":
        golden(args.root)
    else:
        bench(args)


if __name__ == "__main__":
    sys.exit(main())
