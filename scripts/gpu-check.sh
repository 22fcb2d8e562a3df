#!/usr/bin/env bash
# The one-command GPU check (issue 15). It downloads nothing:
#   1. finds the CUDA PJRT plugin that the jax-cuda12/13-pjrt wheel installed (jax_plugins/xla_cuda*/
#      xla_cuda_plugin.so in a Python site-packages) and the NVIDIA libraries beside it (site-packages/nvidia),
#      and points GoMLX at them (GOMLX_BACKEND, LD_LIBRARY_PATH, XLA_FLAGS=--xla_gpu_cuda_data_dir);
#   2. runs `ragnb doctor` on that backend (a matmul checked against a float64 reference);
#   3. writes a bge-base-shape model with random weights (ragnb init-model: BERT, 12 layers, hidden 768, 12 heads,
#      FF 3072, CLS pooling, normalised, bert-base-uncased's vocabulary) and trains it on the financial pairs for
#      --steps optimizer steps with the bge recipe (batch 32 × gradient accumulation 16, lr 2e-5, warmup 0.1,
#      cosine, MNRL in Matryoshka 768…64) under --bf16 and --tf32, reporting the median s/step, pairs/s and the
#      peak device memory (nvidia-smi's figure for the process, sampled every 0.2 s);
#   4. runs the same in sentence-transformers on the same device and the same model directory
#      (tools/gpu_peer.py train: random weights as ragnb wrote them);
#   5. embeds 256 of the questions with ragnb on the GPU and loads the ragnb-saved directory in
#      sentence-transformers, comparing the embeddings row by row (tools/gpu_peer.py compare).
# It prints a table and writes OUT/gpu-check.json.
#
#   scripts/gpu-check.sh [--steps N] [--data qa.csv] [--out DIR] [--python PY] [--no-peer]
#   scripts/gpu-check.sh --backend go --tiny --no-peer --steps 2   # the same steps on the CPU, tiny shapes: CI's check
#
# --backend go runs on the pure-Go backend (no plugin search); --tiny trains a 2-layer, hidden-64 model on 256-token
# texts so that the whole script runs in seconds on a CPU (its figures mean nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
steps=20
data="${RAGNB_SHARED:-$root/../shared}/data/financial-qa-10k/qa.csv"
out="${OUT:-/tmp/ragnb-gpu-check}"
python=""
peer=yes
backend=cuda
tiny=no
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    --no-peer) peer=no; shift ;;
    --backend) backend="$2"; shift 2 ;;
    --tiny) tiny=yes; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "gpu-check.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$backend" in cuda|go) ;; *) echo "gpu-check.sh: --backend cuda or go, not $backend" >&2; exit 2 ;; esac
[ -f "$data" ] || { echo "gpu-check.sh: no financial pairs at $data (give --data FILE with question, context columns)" >&2; exit 1; }
tokenizer="${RAGNB_SHARED:-$root/../shared}/data/tokenizers/bert-base-uncased/tokenizer.json"
[ -f "$tokenizer" ] || { echo "gpu-check.sh: no bert-base-uncased tokenizer at $tokenizer" >&2; exit 1; }
mkdir -p "$out"
export GOEXPERIMENT=simd GOMLX_NO_AUTO_INSTALL=1 HF_HUB_OFFLINE=1

say() { printf '== %s\n' "$*" >&2; }

# Python: the one that has sentence-transformers (the device image's), else python3.
if [ -z "$python" ]; then
  for p in python3 /usr/local/bin/python3 /usr/bin/python3 /opt/conda/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sentence_transformers' >/dev/null 2>&1; then python="$p"; break; fi
  done
  python="${python:-python3}"
fi

# The shared set has a few rows with an empty cell, which ragnb train rightly refuses: both trainers get the
# rows with both cells, and the embedding check the first 256 of their questions.
"$python" - "$data" "$out/pairs.csv" "$out/texts.txt" <<'PY'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = [(r["question"].strip(), r["context"].strip()) for r in csv.DictReader(f)]
rows = [r for r in rows if r[0] and r[1]]
with open(sys.argv[2], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["question", "context"])
    w.writerows(rows)
with open(sys.argv[3], "w", encoding="utf-8") as f:
    f.write("\n".join(q.replace("\n", " ") for q, _ in rows[:256]) + "\n")
PY
pairs_csv="$out/pairs.csv"

say "building ragnb"
go build -o "$out/ragnb" ./cmd/ragnb
ragnb="$out/ragnb"

plugin=""
if [ "$backend" = cuda ]; then
  say "looking for the CUDA PJRT plugin (jax-cuda*-pjrt)"
  roots=$("$python" -c 'import site, sys; print("\n".join(site.getsitepackages() + [site.getusersitepackages()] + sys.path))' 2>/dev/null || true)
  roots="$roots
${VIRTUAL_ENV:+$VIRTUAL_ENV/lib/python3*/site-packages}
/usr/local/lib/python3*/dist-packages
/usr/lib/python3/dist-packages"
  for r in $roots; do
    for f in $r/jax_plugins/xla_cuda*/xla_cuda_plugin.so; do
      if [ -f "$f" ]; then plugin="$f"; break 2; fi
    done
  done
  [ -n "$plugin" ] || { echo "gpu-check.sh: no jax_plugins/xla_cuda*/xla_cuda_plugin.so under: $(echo $roots)" >&2; exit 1; }
  site=$(dirname "$(dirname "$(dirname "$plugin")")")
  if [ -d "$site/nvidia" ]; then
    libs=$(find "$site/nvidia" -maxdepth 3 -type d -name lib | sort | paste -sd: -)
    export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    ptxas=$(find "$site/nvidia" -maxdepth 4 -path '*/bin/ptxas' | head -1)
    if [ -n "$ptxas" ]; then
      export XLA_FLAGS="--xla_gpu_cuda_data_dir=$(dirname "$(dirname "$ptxas")")${XLA_FLAGS:+ $XLA_FLAGS}"
    fi
  fi
  export GOMLX_BACKEND="xla:$plugin" GOPJRT_CUDA_CHECKS=0
  say "plugin $plugin"
else
  export GOMLX_BACKEND=go
fi

say "ragnb doctor"
"$ragnb" doctor | tee "$out/doctor.txt" >&2

if [ "$tiny" = yes ]; then
  shape=(--layers 2 --hidden 64 --heads 4 --intermediate 128 --max-len 256)
  dims=64,32; accum=2; batch=8
else
  shape=(--layers 12 --hidden 768 --heads 12 --intermediate 3072 --max-len 512)
  dims=768,512,256,128,64; accum=16; batch=32
fi
model="$out/bge-shape"
rm -rf "$model"
say "init-model ${shape[*]}"
"$ragnb" init-model --arch bert --tokenizer "$tokenizer" "${shape[@]}" --pooling cls --normalize --seed 1 \
  --query-prompt "Represent this sentence for searching relevant passages: " --out "$model" >&2

# Peak device memory of a process in MiB: the largest nvidia-smi reading for its pid ("null" on the CPU or
# without nvidia-smi). It is what the process holds from the driver — the allocator's high-water mark plus the
# CUDA context — measured the same way for ragnb and for torch.
watch_memory() { # pid file
  local pid=$1 file=$2 peak=null m
  if [ "$backend" != cuda ] || ! command -v nvidia-smi >/dev/null 2>&1; then
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    echo null >"$file"
    return
  fi
  peak=0
  while kill -0 "$pid" 2>/dev/null; do
    m=$(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2>/dev/null |
      awk -F', *' -v p="$pid" '$1 == p { print $2 }' | head -1)
    if [ -n "$m" ] && [ "$m" -gt "$peak" ]; then peak=$m; fi
    sleep 0.2
  done
  echo "$peak" >"$file"
}

say "ragnb train: $steps steps of $batch × $accum pairs, bf16 + tf32 on $backend"
trained="$out/ragnb-trained"
rm -rf "$trained" "$trained.checkpoints"
precision=(--bf16)
if [ "$backend" = cuda ]; then precision+=(--tf32); fi
"$ragnb" train --model "$model" --data "$pairs_csv" --anchor question --positive context --out "$trained" \
  --max-steps "$steps" --batch-size "$batch" --grad-accum "$accum" --lr 2e-5 --warmup-ratio 0.1 --schedule cosine \
  --matryoshka-dims "$dims" --skip-initial-eval "${precision[@]}" >"$out/train.txt" 2>"$out/train.err" &
tpid=$!
watch_memory "$tpid" "$out/train.mem" &
wpid=$!
status=0; wait "$tpid" || status=$?
wait "$wpid" || true
cat "$out/train.txt" >&2
if [ "$status" != 0 ]; then tail -20 "$out/train.err" >&2; echo "gpu-check.sh: ragnb train failed ($status)" >&2; exit 1; fi
line=$(grep '^trained' "$out/train.txt")
median=$(sed -n 's/.*(median \([0-9.]*\) s.*/\1/p' <<<"$line")
first=$(sed -n 's/.*first \([0-9.]*\) s with compilation.*/\1/p' <<<"$line")
[ -n "$median" ] || { echo "gpu-check.sh: no median s/step in: $line" >&2; exit 1; }
ragnb_mem=$(cat "$out/train.mem")

peer_json='null'
cmp_json='null'
if [ "$peer" = yes ]; then
  device=cuda; [ "$backend" = go ] && device=cpu
  say "sentence-transformers ($python): the same steps on $device"
  pargs=(train --model "$model" --data "$pairs_csv" --steps "$steps" --batch-size "$batch" --grad-accum "$accum" --lr 2e-5
    --warmup-ratio 0.1 --schedule cosine --dims "$dims" --bf16 --device "$device")
  [ "$backend" = cuda ] && pargs+=(--tf32)
  "$python" tools/gpu_peer.py "${pargs[@]}" >"$out/peer.json" 2>"$out/peer.err" &
  ppid_=$!
  watch_memory "$ppid_" "$out/peer.mem" &
  wpid=$!
  status=0; wait "$ppid_" || status=$?
  wait "$wpid" || true
  if [ "$status" != 0 ]; then tail -20 "$out/peer.err" >&2; echo "gpu-check.sh: the sentence-transformers peer failed ($status)" >&2; exit 1; fi
  peer_json=$(cat "$out/peer.json")

  say "embeddings: ragnb on $backend vs sentence-transformers loading the ragnb-saved directory"
  "$ragnb" embed --model "$trained" --in "$out/texts.txt" --out "$out/ragnb.npy" >&2
  "$python" tools/gpu_peer.py compare --model "$trained" --texts "$out/texts.txt" --embeddings "$out/ragnb.npy" \
    --device "$device" >"$out/compare.json"
  cmp_json=$(cat "$out/compare.json")
fi

pairs=$((batch * accum))
"$python" - "$out/gpu-check.json" "$backend" "$steps" "$pairs" "$median" "$first" "$ragnb_mem" \
  "$peer_json" "$cmp_json" "$(grep '^backend' "$out/doctor.txt" | head -1)" "$(cat "$out/peer.mem" 2>/dev/null || echo null)" <<'PY'
import json, sys
path, backend, steps, pairs, median, first, mem, peer, cmp, doctor, peer_mem = sys.argv[1:]
median, pairs = float(median), int(pairs)
r = {"backend": backend, "doctor": doctor.split(None, 1)[-1].strip(), "steps": int(steps), "pairs_per_step": pairs,
     "ragnb": {"s_per_step": median, "first_step_s": float(first or 0), "pairs_per_s": pairs / median,
               "peak_device_mb": json.loads(mem)},
     "peer": json.loads(peer), "embeddings": json.loads(cmp)}
if r["peer"]:
    r["peer"]["peak_device_mb"] = json.loads(peer_mem)
json.dump(r, open(path, "w"), indent=2)
print(f"{'':28} {'ragnb':>12} {'sentence-transformers':>22}")
p = r["peer"] or {}
def row(name, a, b, fmt):
    print(f"{name:28} {format(a, fmt) if a is not None else '-':>12} {format(b, fmt) if b is not None else '-':>22}")
row("s per optimizer step", median, p.get("s_per_step"), ".3f")
row("pairs per second", pairs / median, p.get("pairs_per_s"), ".1f")
row("peak device memory (MiB)", r["ragnb"]["peak_device_mb"], p.get("peak_device_mb"), ".0f")
if p.get("s_per_step"):
    print(f"ragnb runs at {p['s_per_step'] / median:.2f}x sentence-transformers' pace")
if r["embeddings"]:
    e = r["embeddings"]
    print(f"embeddings of {e['texts']} questions: min cosine {e['min_cosine']:.6f}, max |diff| {e['max_abs_diff']:.2e}")
print(f"written to {path}")
PY
