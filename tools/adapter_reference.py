#!/usr/bin/env python3
"""Independent PyTorch reference for train/adapter: LlamaIndex's LinearLayer and TwoLayerNN trained as its
train_model does (MNRL over cos_sim × 20 with the adapter on the queries, torch AdamW with weight decay 0.01,
get_linear_schedule_with_warmup written out, clip_grad_norm_ 1), in float64 on tiny random data.

    /usr/bin/python3 tools/adapter_reference.py [ROOT]   writes ROOT/train/adapter.json (ROOT defaults to testdata)
"""
import json
import os
import sys

import torch
import torch.nn.functional as F


def cos_sim(a, b):
    return F.normalize(a, p=2, dim=1) @ F.normalize(b, p=2, dim=1).T


class Linear(torch.nn.Module):
    def __init__(self, d, bias):
        super().__init__()
        self.linear = torch.nn.Linear(d, d, bias=bias)
        with torch.no_grad():
            self.linear.weight.copy_(torch.eye(d) + 0.1 * torch.randn(d, d))
            if bias:
                self.linear.bias.copy_(0.1 * torch.randn(d))

    def forward(self, x):
        return self.linear(x)


class TwoLayer(torch.nn.Module):
    def __init__(self, d, h, act, residual):
        super().__init__()
        self.linear1, self.linear2 = torch.nn.Linear(d, h), torch.nn.Linear(h, d)
        self.residual_weight = torch.nn.Parameter(torch.tensor([0.3 if residual else 0.0]))
        self.act, self.residual = act, residual

    def forward(self, x):
        y = self.linear2(self.act(self.linear1(x)))
        return self.residual_weight * y + x if self.residual else y


def case(name, model, cfg, q, p, epochs, batch, lr, wd, warmup_ratio, max_norm):
    init = {n: t.detach().clone() for n, t in model.state_dict().items()}
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    per_epoch = (len(q) + batch - 1) // batch
    total = per_epoch * epochs
    warmup = int(total * warmup_ratio)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    losses = []
    for step in range(total):
        lo = (step % per_epoch) * batch
        qb, pb = q[lo:lo + batch], p[lo:lo + batch]
        scores = cos_sim(model(qb), pb) * 20.0
        loss = F.cross_entropy(scores, torch.arange(len(scores)))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        opt.step()
        opt.zero_grad()
        sched.step()
        losses.append(loss.item())
    flat = lambda sd: {n: t.reshape(-1).tolist() for n, t in sd.items()}
    return {"name": name, "config": cfg, "queries": q.tolist(), "passages": p.tolist(), "epochs": epochs,
            "batch_size": batch, "learning_rate": lr, "weight_decay": wd, "warmup_ratio": warmup_ratio,
            "max_grad_norm": max_norm, "initial": flat(init), "losses": losses,
            "trained": flat(model.state_dict())}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "testdata"
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(7)
    d, n = 6, 7
    q, p = torch.randn(n, d), torch.randn(n, d)
    cases = [
        case("linear-bias", Linear(d, True), {"kind": "linear", "in_features": d, "out_features": d, "bias": True},
             q, p, 2, 3, 0.05, 0.01, 0.34, 1.0),
        case("two-layer-relu-residual", TwoLayer(d, 5, F.relu, True),
             {"kind": "two-layer", "in_features": d, "hidden_features": 5, "out_features": d, "bias": True,
              "activation_fn_str": "relu", "add_residual": True}, q, p, 2, 3, 0.05, 0.01, 0.34, 1.0),
        case("two-layer-tanh", TwoLayer(d, 4, torch.tanh, False),
             {"kind": "two-layer", "in_features": d, "hidden_features": 4, "out_features": d, "bias": True,
              "activation_fn_str": "tanh"}, q, p, 1, 4, 0.02, 0.0, 0.0, 0.5),
    ]
    os.makedirs(os.path.join(root, "train"), exist_ok=True)
    out = os.path.join(root, "train", "adapter.json")
    with open(out, "w") as f:
        json.dump({"tool": "tools/adapter_reference.py (torch %s, float64)" % torch.__version__, "cases": cases}, f)
    print("wrote", out)


if __name__ == "__main__":
    main()
