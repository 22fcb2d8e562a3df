#!/usr/bin/python3
"""Independent reference for ragnb's BM25 baseline on the shared financial QA set.

Re-implements, in plain Python (stdlib only, no ragnb code):
  - the evaluation set `ragnb eval --pairs qa.csv --anchor question --positive context --test-fraction 0`
    builds: every row is a query, the corpus is the distinct contexts (first-appearance order), a query's
    relevant set is every context paired with its exact question text;
  - tokenisation: lowercase, maximal runs of Unicode letters/digits, Lucene's 33 English stop words dropped;
  - Okapi BM25 with k1=1.2, b=0.75 and Lucene's IDF ln(1 + (N - df + 0.5)/(df + 0.5));
  - ranking by score descending, ties by corpus position, documents sharing no term not returned;
  - sentence-transformers' IR metrics at the default cut-offs.

Writes testdata/bm25/financial-all.golden.json, checked by retrieval/evaluate's TestBM25FinancialMatchesPython.
Regenerate from the repository root:
    /usr/bin/python3 tools/bm25_golden.py ../shared/data/financial-qa-10k/qa.csv
"""
import csv
import json
import math
import os
import sys
import unicodedata

STOP = set("a an and are as at be but by for if in into is it no not of on or such that the their then there "
           "these they this to was will with".split())


def is_alnum(ch):
    cat = unicodedata.category(ch)
    return cat.startswith("L") or cat == "Nd"  # Go's unicode.IsLetter || unicode.IsDigit


def tokenize(text):
    out, cur = [], []
    for ch in text:
        if is_alnum(ch):
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return [t for t in (w.lower() for w in out) if t not in STOP]


def main(path):
    with open(path, newline="", encoding="utf-8") as f:
        # A row with an empty context has nothing to judge against: ragnb skips it (ir.FromPairs).
        rows = [r for r in csv.DictReader(f) if r["context"] != ""]
    docs, doc_index = [], {}
    for r in rows:
        if r["context"] not in doc_index:
            doc_index[r["context"]] = len(docs)
            docs.append(r["context"])
    by_question = {}
    for r in rows:
        by_question.setdefault(r["question"], set()).add(doc_index[r["context"]])

    k1, b = 1.2, 0.75
    toks = [tokenize(d) for d in docs]
    n = len(docs)
    avgdl = sum(len(t) for t in toks) / n
    postings = {}
    for i, t in enumerate(toks):
        counts = {}
        for w in t:
            counts[w] = counts.get(w, 0) + 1
        for w, c in counts.items():
            postings.setdefault(w, []).append((i, c))
    idf = {w: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for w, p in postings.items()}
    norm = [k1 * (1 - b + b * len(t) / avgdl) for t in toks]

    names = ["accuracy@%d" % k for k in (1, 3, 5, 10)] + ["precision@%d" % k for k in (1, 3, 5, 10)] + \
        ["recall@%d" % k for k in (1, 3, 5, 10)] + ["ndcg@10", "mrr@10", "map@100"]
    sums = dict.fromkeys(names, 0.0)
    for r in rows:
        acc = {}
        for w in tokenize(r["question"]):
            for d, tf in postings.get(w, ()):
                acc[d] = acc.get(d, 0.0) + idf[w] * tf * (k1 + 1) / (tf + norm[d])
        ranked = sorted(acc, key=lambda d: (-acc[d], d))[:100]
        rel = by_question[r["question"]]
        hit = [1 if d in rel else 0 for d in ranked]
        for k in (1, 3, 5, 10):
            c = sum(hit[:k])
            sums["accuracy@%d" % k] += 1.0 if c else 0.0
            sums["precision@%d" % k] += c / k
            sums["recall@%d" % k] += c / len(rel)
        dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hit[:10]))
        idcg = sum(1 / math.log2(i + 2) for i in range(min(len(rel), 10)))
        sums["ndcg@10"] += dcg / idcg
        sums["mrr@10"] += next((1 / (i + 1) for i, h in enumerate(hit[:10]) if h), 0.0)
        correct, s = 0, 0.0
        for i, h in enumerate(hit[:100]):
            if h:
                correct += 1
                s += correct / (i + 1)
        sums["map@100"] += s / min(100, len(rel))
    out = {"generator": "tools/bm25_golden.py", "queries": len(rows), "corpus": n,
           "metrics": {"bm25_" + k: v / len(rows) for k, v in sums.items()}}
    dest = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "bm25", "financial-all.golden.json")
    with open(dest, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(out["metrics"], indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/financial-qa-10k/qa.csv")
