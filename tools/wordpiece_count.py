"""Independent check of docs.ApproxCounter against real BERT WordPiece counts.

Usage: python3 tools/wordpiece_count.py ../shared/data/tokenizers/bert-base-uncased/tokenizer.json \
           ../shared/data/financial-qa-10k/qa.csv

A plain re-implementation of bert-base-uncased tokenization (BasicTokenizer: lower case, strip accents,
split on whitespace and punctuation; then greedy longest-match WordPiece over the vocabulary in
tokenizer.json) counts the tokens of every unique context; the estimate est(k) counts each punctuation mark
and each all-digit run as one token and each other run of n characters as ceil(n/k). The Go default uses
k = 9, the value with the smallest per-passage error here.
"""
import json, sys, csv, unicodedata, re
tok = json.load(open(sys.argv[1]))
vocab = tok["model"]["vocab"]
def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126: return True
    return unicodedata.category(ch).startswith("P")
def basic(text):
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    out = []
    for w in text.split():
        cur = ""
        for ch in w:
            if is_punct(ch):
                if cur: out.append(cur); cur = ""
                out.append(ch)
            else: cur += ch
        if cur: out.append(cur)
    return out
def wp(word):
    if len(word) > 100: return 1
    n, start = 0, 0
    while start < len(word):
        end = len(word); found = False
        while start < end:
            s = word[start:end]
            if start > 0: s = "##" + s
            if s in vocab: found = True; break
            end -= 1
        if not found: return 1
        n += 1; start = end
    return n
rows = list(csv.DictReader(open(sys.argv[2])))
seen=set(); ctx=[]
for r in rows:
    if r["context"] not in seen: seen.add(r["context"]); ctx.append(r["context"])
tot_wp=tot_basic=tot_ws=0
for c in ctx:
    b = basic(c); tot_basic += len(b); tot_wp += sum(wp(x) for x in b); tot_ws += len(c.split())
print(len(ctx), "contexts; wordpiece", tot_wp, "basic", tot_basic, "whitespace", tot_ws, "wp/basic", tot_wp/tot_basic, "wp/ws", tot_wp/tot_ws)
import math
def est(tokens, k):
    n=0
    for t in tokens:
        if len(t)==1 or t.isdigit(): n+=1
        else: n += max(1, math.ceil(len(t)/k))
    return n
for k in [6,7,8,9,10,12,100]:
    err=0; tot=0
    for c in ctx:
        b=basic(c); w=sum(wp(x) for x in b); e=est(b,k); err+=abs(e-w)/max(w,1); tot+=e
    print(k, "total ratio", tot/tot_wp, "mean abs rel err", err/len(ctx))
