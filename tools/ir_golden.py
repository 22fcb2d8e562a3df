#!/usr/bin/python3
"""Independent reference for ragnb's IR metrics (package ir, `ragnb eval --run`).

Generates a seeded random TREC run and qrels, then computes the metrics of sentence-transformers'
InformationRetrievalEvaluator.compute_metrics with plain Python (stdlib only, no ragnb code), and writes:

  testdata/ir/random.qrels.tsv   BEIR qrels (query-id, corpus-id, score) with header
  testdata/ir/random.trec        TREC run (qid Q0 docid rank score tag)
  testdata/ir/random.golden.json metrics for the default cut-offs and for a custom set

Regenerate from the repository root with Debian's python3:   /usr/bin/python3 tools/ir_golden.py

The random data deliberately contains: score ties (scores rounded to 2 decimals), queries with several
relevant documents, queries whose only judgements are grade 0 (skipped), judged queries missing from the
run (scored 0), runs longer than 100 hits (MAP@100 truncation), runs shorter than 10, relevant documents
never retrieved, and run entries for unjudged queries (ignored).

Ranking rule (ragnb's documented contract): score descending, ties by document id ascending.
"""
import json
import math
import os
import random

SEED = 20261121
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "ir")


def generate(rng):
    docs = ["doc%03d" % i for i in range(400)]
    qrels = {}  # qid -> {docid: grade}
    run = {}  # qid -> [(docid, score)]
    for q in range(150):
        qid = "q%03d" % q
        kind = rng.random()
        if kind < 0.08:
            qrels[qid] = {rng.choice(docs): 0}  # judged, nothing relevant: skipped
        else:
            n_rel = rng.choice([1, 1, 1, 2, 3, 5, 12])
            qrels[qid] = {d: rng.choice([1, 1, 2]) for d in rng.sample(docs, n_rel)}
            if rng.random() < 0.2:  # plus a judged non-relevant document
                qrels[qid][rng.choice(docs)] = 0
        if rng.random() < 0.05:
            continue  # judged query absent from the run
        n_hits = rng.choice([3, 8, 20, 50, 120, 150])
        cands = rng.sample(docs, n_hits)
        rel = [d for d, g in qrels[qid].items() if g > 0]
        # Make relevant documents likely to be retrieved, at random positions.
        for d in rel:
            if d not in cands and rng.random() < 0.7:
                cands[rng.randrange(len(cands))] = d
        cands = list(dict.fromkeys(cands))
        run[qid] = [(d, round(rng.uniform(-1, 1), 2)) for d in cands]
    run["unjudged"] = [(docs[0], 1.0), (docs[1], 0.5)]
    return qrels, run


def rank(hits):
    return sorted(hits, key=lambda h: (-h[1], h[0]))


def dcg(rels, k):
    return sum(rels[i] / math.log2(i + 2) for i in range(min(len(rels), k)))


def metrics(qrels, run, acc_k, pr_k, mrr_k, ndcg_k, map_k):
    max_k = max(acc_k + pr_k + mrr_k + ndcg_k + map_k)
    sums = {}
    n = 0
    for qid in sorted(qrels):
        relevant = {d for d, g in qrels[qid].items() if g > 0}
        if not relevant:
            continue
        n += 1
        top = [d for d, _ in rank(run.get(qid, []))][:max_k]
        hit = [1 if d in relevant else 0 for d in top]
        vals = {}
        for k in acc_k:
            vals["accuracy@%d" % k] = 1.0 if any(hit[:k]) else 0.0
        for k in pr_k:
            c = sum(hit[:k])
            vals["precision@%d" % k] = c / k
            vals["recall@%d" % k] = c / len(relevant)
        for k in mrr_k:
            vals["mrr@%d" % k] = next((1.0 / (i + 1) for i, h in enumerate(hit[:k]) if h), 0.0)
        for k in ndcg_k:
            vals["ndcg@%d" % k] = dcg(hit[:k], k) / dcg([1] * len(relevant), k)
        for k in map_k:
            correct, s = 0, 0.0
            for i, h in enumerate(hit[:k]):
                if h:
                    correct += 1
                    s += correct / (i + 1)
            vals["map@%d" % k] = s / min(k, len(relevant))
        for name, v in vals.items():
            sums[name] = sums.get(name, 0.0) + v
    return {"queries": n, "metrics": {name: s / n for name, s in sums.items()}}


def main():
    rng = random.Random(SEED)
    qrels, run = generate(rng)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "random.qrels.tsv"), "w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid in sorted(qrels):
            for d in sorted(qrels[qid]):
                f.write("%s\t%s\t%d\n" % (qid, d, qrels[qid][d]))
    with open(os.path.join(OUT, "random.trec"), "w") as f:
        for qid in sorted(run):
            # Written in generation order with a meaningless rank column: readers must rank by score.
            for i, (d, s) in enumerate(run[qid]):
                f.write("%s Q0 %s %d %s golden\n" % (qid, d, i + 1, repr(s)))
    custom = dict(acc_k=[2], pr_k=[1, 7, 200], mrr_k=[3, 100], ndcg_k=[1, 5, 200], map_k=[10])
    golden = {
        "generator": "tools/ir_golden.py seed %d" % SEED,
        "default": metrics(qrels, run, [1, 3, 5, 10], [1, 3, 5, 10], [10], [10], [100]),
        "custom": dict(config=custom, **metrics(qrels, run, **custom)),
    }
    with open(os.path.join(OUT, "random.golden.json"), "w") as f:
        json.dump(golden, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
