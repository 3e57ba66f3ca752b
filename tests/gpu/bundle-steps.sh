#!/usr/bin/env bash
# gst-affect: the steps of the GPU check bundle, run from the unpacked
# bundle by run-bundle.sh (see tests/gpu/make-bundle.sh). Each step has a
# time limit so that the whole run stays under 8 minutes (at most 450 s of
# steps):
#   1. the registry test with the real CUDA module (20 s)
#   2. the op test on cpu and cuda, every op family (90 s; convolutions
#      through cuDNN when it is found)
#   3. gpu-check: network parity and CUDA throughput with cuDNN (100 s),
#      the face networks again with the own kernels (AFFECT_CUDA_CUDNN=0,
#      60 s), then CPU throughput (90 s)
#   4. torch_gpu.py: PyTorch throughput on the same GPU (80 s)
# then prints the parity and throughput tables. PYTHON selects the Python
# (default python3; it needs numpy, and PyTorch for step 4).
set -uo pipefail

B=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$B/out
mkdir -p "$out"

log() { printf '\n=== %s\n' "$*"; }

# cuBLAS and cuDNN for CUDA 13 (the module opens libcublas.so.13 and
# libcudnn.so.9, cuDNN its own parts next to it): Python's nvidia packages
# (nvidia-cublas: nvidia/cu13/lib; nvidia-cudnn-cu13: nvidia/cudnn/lib,
# asked from the package itself first), $CUDA_HOME, the system.
find_lib_dirs() {
  ${PYTHON:-python3} - "$@" <<'PY' 2>/dev/null
import glob, importlib, os, site, sys
roots = list(sys.path)
try:
    roots += site.getsitepackages() + [site.getusersitepackages()]
except Exception:
    pass
seen = []
def add(d):
    if d not in seen:
        seen.append(d)
lib, pkg = sys.argv[1], sys.argv[2]
try:
    m = importlib.import_module(pkg)
    for base in ([os.path.dirname(m.__file__)] if getattr(m, "__file__", None)
                 else []) + list(getattr(m, "__path__", [])):
        if os.path.exists(os.path.join(base, "lib", lib)):
            add(os.path.join(base, "lib"))
except Exception:
    pass
for r in roots:
    for p in glob.glob(os.path.join(r, "nvidia", "*", "lib", lib)):
        add(os.path.dirname(p))
print(":".join(seen))
PY
}
cublas_dirs=$(find_lib_dirs libcublas.so.13 nvidia.cu13)
cudnn_dirs=$(find_lib_dirs libcudnn.so.9 nvidia.cudnn)
for d in "${CUDA_HOME:-}/lib" "${CUDA_HOME:-}/lib64" /usr/local/cuda/lib64; do
  [ -e "$d/libcublas.so.13" ] && cublas_dirs=$cublas_dirs${cublas_dirs:+:}$d
  [ -e "$d/libcudnn.so.9" ] && cudnn_dirs=$cudnn_dirs${cudnn_dirs:+:}$d
done
libpath=$B/lib${cublas_dirs:+:$cublas_dirs}${cudnn_dirs:+:$cudnn_dirs}
# Every program runs through the bundled loader and libraries.
run=("$B/lib/ld-linux-x86-64.so.2" --library-path "$libpath")
py=${PYTHON:-python3}

export AFFECT_BACKEND_PATH=$B/backends
export AFFECT_MODEL_DIR=$B/models
export AFFECT_CACHE_DIR=$B/cache

log "Machine"
nvidia-smi -L 2>/dev/null || echo "nvidia-smi: none"
echo "cuBLAS folders: ${cublas_dirs:-none found}"
echo "cuDNN folders: ${cudnn_dirs:-none found: convolutions on the own kernels}"

# The word model's weights: random, in the real model's layout.
bert=$B/models/all-MiniLM-L6-v2
if [ ! -f "$bert/model.safetensors" ] && [ -f "$bert/layout.json" ]; then
  "$py" - "$bert/layout.json" "$bert/model.safetensors" <<'PY' || echo "no numpy: no word model"
import json, struct, sys
import numpy as np
layout = json.load(open(sys.argv[1]))
rng = np.random.default_rng(3)
arrays, header, off = [], {}, 0
for name in sorted(layout):
    shape, dtype = layout[name]["shape"], layout[name]["dtype"]
    if dtype == "I64":
        a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    elif name.endswith("LayerNorm.weight"):
        a = np.ones(shape, np.float32)
    elif name.endswith("bias") or name.endswith("LayerNorm.bias"):
        a = (rng.standard_normal(shape) * 0.02).astype(np.float32)
    else:
        a = (rng.standard_normal(shape) * 0.05).astype(np.float32)
    b = a.tobytes()
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(b)]}
    arrays.append(b)
    off += len(b)
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    for b in arrays:
        f.write(b)
PY
fi

log "1. The CUDA module in the registry"
timeout 20 env CK_FORK=no CK_DEFAULT_TIMEOUT=60 "${run[@]}" "$B/bin/test-models-registry-cuda" "$B/backends" 2>&1 | tee "$out/registry.txt" | tail -n 5

# The op test takes cuda only when the registry test found a device (a
# backend it cannot create fails the whole run).
if grep -q "^CUDA device 0:" "$out/registry.txt"; then
  backends=cuda
else
  backends=
fi
log "2. The op test (AFFECT_TEST_BACKENDS=${backends:-none: no CUDA device, cpu only})"
timeout 90 env CK_DEFAULT_TIMEOUT=60 AFFECT_TEST_BACKENDS=$backends G_MESSAGES_DEBUG=affect-cuda "${run[@]}" "$B/bin/test-models-backend-ops" > "$out/ops.txt" 2>&1
echo "exit status $?"
grep -E "^cuda|skipping|:F:|:E:|Checks" "$out/ops.txt" | tail -n 80
# cuDNN: its version, and the shapes it left to the own kernels
grep -m 3 -E "cuDNN" "$out/ops.txt" | cut -c1-200
echo "convolution shapes cuDNN could not plan: $(grep -c 'cuDNN cannot run' "$out/ops.txt")"
[ -n "$backends" ] || grep -E "^cpu \(2" "$out/ops.txt" | cut -c1-100

log "3. gpu-check: parity and throughput (C engine)"
fusion_arg=
[ -f "$B/models/fusion.safetensors" ] && fusion_arg="--fusion $B/models/fusion.safetensors"
# One process per part, so that a slow part cannot take the other's lines
# with it. cuda: cuDNN when found; cuda-own: AFFECT_CUDA_CUDNN=0, the face
# networks only.
for part in cuda cuda-own cpu; do
  case $part in cuda) limit=100 ;; cuda-own) limit=60 ;; *) limit=90 ;; esac
  timeout $limit env G_MESSAGES_DEBUG=affect-cuda "${run[@]}" "$B/bin/gpu-check" --part $part --models "$B/models" \
    --bert "$bert" $fusion_arg --seconds "${GPU_CHECK_SECONDS:-1.5}" \
    --batches "${GPU_CHECK_BATCHES:-1,8,32,128}" \
    > "$out/gpu-check-$part.txt" 2> "$out/gpu-check-$part.err"
  rc=$?
  echo "$part: exit status $rc$([ $rc = 124 ] && echo ": stopped at its $limit s limit")"
  grep -v "^affect-cuda-DEBUG\|^(.*): affect-cuda-DEBUG" "$out/gpu-check-$part.err" | tail -n 3
  [ "$part" = cuda ] && echo "cuda: convolution shapes cuDNN could not plan: $(grep -c 'cuDNN cannot run' "$out/gpu-check-$part.err")"
done

log "4. PyTorch on the same GPU"
timeout 80 "$py" "$B/py/torch_gpu.py" --models "$B/models" --bert "$bert" \
  > "$out/torch.txt" 2> "$out/torch.err"
echo "exit status $?"
tail -n 3 "$out/torch.err"

log "Tables"
"$py" - "$out/gpu-check-cuda.txt" "$out/gpu-check-cuda-own.txt" "$out/gpu-check-cpu.txt" "$out/torch.txt" <<'PY'
import sys
rows, parity, backends, missing = {}, [], {}, {}
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for l in lines:
        f = l.split("\t")
        if f[0] == "BACKEND":
            backends[f[1]] = (f[2] == "1", f[3])
        elif f[0] == "PARITY":
            parity.append(f[1:] + ["cuda"] * (len(f) < 6))
        elif f[0] == "RATE" and len(f) >= 6:
            if f[3] == "-":  # a whole column without a device
                missing[f[2]] = "no device"
                continue
            v = f[4] if f[4] != "-" else f[5].split(" (")[0]
            rows.setdefault((f[1], f[3]), {})[f[2]] = v
for k, (ok, v) in backends.items():
    print(f"{k}: {v}")
if not backends.get("cuda", (False,))[0]:
    missing["cuda"] = "no device"
if not any("torch" in r for r in rows.values()):
    missing.setdefault("torch", "no device")
if not backends.get("cuda-own", (False,))[0]:
    missing["cuda-own"] = "no device"
print("\nParity, CUDA against CPU (random inputs; max |diff|, and that / max |cpu|;")
print("cuda: convolutions through cuDNN when found, cuda-own: AFFECT_CUDA_CUDNN=0)")
print(f"{'net':<12} {'batch':>5} {'module':>9} {'max abs':>12} {'normalised':>12}")
for p in parity:
    print(f"{p[0]:<12} {p[1]:>5} {p[4]:>9} {p[2]:>12} {p[3].split(' (')[0]:>12}")
print("\nThroughput (items/s: images; face-frames for chain; sentences for bert; clips for fusion)")
print(f"{'what':<12} {'batch':>5} {'cpu':>12} {'cuda':>12} {'cuda-own':>12} {'torch-cuda':>12}")
order = ["tiny", "landmarks", "expression", "recognition", "chain", "bert", "fusion"]
for (what, batch) in sorted(rows, key=lambda k: (order.index(k[0]) if k[0] in order else 99, int(k[1]))):
    r = rows[(what, batch)]
    cols = [r.get(c, missing.get(c, "-")) for c in ("cpu", "cuda", "cuda-own", "torch")]
    print(f"{what:<12} {batch:>5} " + " ".join(f"{c:>12}" for c in cols))
PY
