#!/usr/bin/python3
"""Reference HNSW figures for package hnsw: faiss's IndexHNSWFlat (inner product) on the vectors that
`go run ./tools/hnswpeer -out DIR` wrote, recall@10 against exact search (IndexFlatIP), one thread.

    /usr/bin/python3 tools/hnsw_peer.py /tmp/hnswpeer [M] [efConstruction]

Needs Debian's python3-faiss (1.7.3) and python3-numpy."""
import sys, time
import numpy as np
import faiss

d = sys.argv[1]
M = int(sys.argv[2]) if len(sys.argv) > 2 else 16
efc = int(sys.argv[3]) if len(sys.argv) > 3 else 200
faiss.omp_set_num_threads(1)
xb = np.load(d + "/corpus.npy")
xq = np.load(d + "/queries.npy")
flat = faiss.IndexFlatIP(xb.shape[1])
flat.add(xb)
_, truth = flat.search(xq, 10)
ix = faiss.IndexHNSWFlat(xb.shape[1], M, faiss.METRIC_INNER_PRODUCT)
ix.hnsw.efConstruction = efc
t0 = time.time()
ix.add(xb)
print(f"faiss hnsw: {xb.shape[0]} × {xb.shape[1]}, M {M} efConstruction {efc}, build {time.time() - t0:.2f} s")
for ef in (16, 32, 64, 128, 256):
    ix.hnsw.efSearch = ef
    t0 = time.time()
    _, got = ix.search(xq, 10)
    us = (time.time() - t0) / len(xq) * 1e6
    hit = sum(len(set(g) & set(t)) for g, t in zip(got, truth))
    print(f"  ef {ef:3d}  recall@10 {hit / (10 * len(xq)):.4f}  {us:.0f} µs/query")
