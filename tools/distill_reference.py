"""Independent PyTorch reference for ragnb's knowledge-distillation loss (losses.GroupKLDivergence).

Written from FlagEmbedding's definition (AbsEmbedderModel: teacher_targets = softmax(teacher_scores) over each
query's group; distill_loss "kl_div" = -mean(sum(log_softmax(student_scores) * teacher_targets)), the student's
scores being the normalised query-passage similarities divided by the temperature). float64.

  python3 tools/distill_reference.py [ROOT]    writes ROOT/train/distill.json (default ROOT: testdata)
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def group_kl(cols, teacher, temperature):
    q = F.normalize(cols[0], dim=-1)
    group = torch.stack([F.normalize(c, dim=-1) for c in cols[1:]], dim=1)  # (batch, G, dim)
    student = torch.einsum("bd,bgd->bg", q, group) / temperature
    targets = F.softmax(teacher, dim=-1)
    return -torch.mean(torch.sum(torch.log_softmax(student, dim=-1) * targets, dim=-1))


def cases():
    rng = np.random.RandomState(20261201)
    out = []
    for name, batch, group, dim, temperature, rows in [
        ("group_kl_g4_t0.02", 5, 4, 8, 0.02, None),
        ("group_kl_g2_t0.05", 6, 2, 6, 0.05, None),
        ("group_kl_g3_3_of_5_rows", 5, 3, 8, 0.02, 3),
    ]:
        inputs = [rng.normal(size=(batch, dim)).tolist() for _ in range(group + 1)]
        teacher = (rng.normal(size=(batch, group)) * 2).tolist()
        ts = [torch.tensor(x, requires_grad=True) for x in inputs]
        n = batch if rows is None else rows
        loss = group_kl([t[:n] for t in ts], torch.tensor(teacher)[:n], temperature)
        loss.backward()
        out.append({"name": name, "kind": "group_kl", "params": {"scale": 1 / temperature}, "inputs": inputs,
                    "labels": sum(teacher, []), "rows": rows, "loss": loss.item(), "grads": [t.grad.tolist() for t in ts]})
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "testdata"
    os.makedirs(os.path.join(root, "train"), exist_ok=True)
    tool = "tools/distill_reference.py (torch %s, float64)" % torch.__version__
    with open(os.path.join(root, "train", "distill.json"), "w") as f:
        json.dump({"tool": tool, "cases": cases()}, f)
    print("wrote", os.path.join(root, "train", "distill.json"))


if __name__ == "__main__":
    main()
