#!/usr/bin/env bash
# gst-affect: create the Python environment of the fusion trainer
# (models/fusion/train.py, export.py) and of the end-to-end test.
#
#   bash models/fusion/setup-train-env.sh [--ray] VENV_DIR
#
# Creates a virtual environment at VENV_DIR with PyTorch and the trainer's
# dependencies, and prints the path of its python on stdout (the last line;
# progress goes to stderr). The trainer runs on the CPU.
#
# --ray also installs Ray (ray==2.60.0 and its pinned dependencies: a 79 MB
# wheel, about 240 MB installed, 25-45 s here), for extract.py --ray and
# train.py --ray (docs/scale-out.md) and their tests (tests/scale-out);
# added to an existing environment that lacks it.
#
# PyPI has no CPU-only PyTorch for Linux x86-64: its torch wheel is built
# with CUDA and libtorch is linked against the CUDA runtime libraries, so
# `import torch` fails without them, even on the CPU. A plain
# `pip install torch` pulls about 4.5 GB (installed) of CUDA packages,
# triton included. This script installs torch with --no-deps and then only
# what importing and running it on the CPU needs: its pure-Python
# dependencies and the NVIDIA libraries libtorch is linked against (CUDA
# runtime, cuBLAS, cuFFT, cuFile, CUPTI, cuSPARSE, nvJitLink, NVRTC, cuDNN,
# cuSPARSELt, NCCL, NVSHMEM: about 2.8 GB installed), leaving out triton,
# cuSOLVER and NVTX (loaded only for GPU work), about 1.3 GB less. All
# versions are pinned: the set torch 2.15.0 requires.
#
# Idempotent: when VENV_DIR/bin/python already imports torch, numpy and
# safetensors and runs a small GRU, nothing is installed.
#
# Environment: PYTHON (default python3) creates the environment;
# PIP_INDEX_URL and the other pip variables are honoured.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() {
  echo "setup-train-env.sh: error: $*" >&2
  exit 1
}

with_ray=0
if [ "${1:-}" = --ray ]; then
  with_ray=1
  shift
fi
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
[ $# -eq 1 ] || die "one argument expected: the environment's folder"
venv=$1
python=${PYTHON:-python3}

# The pins: the versions torch 2.15.0 requires (its metadata and that of
# cuda-toolkit 13.2.2), with which the trainer and the tests were run.
TORCH=torch==2.15.0
DEPS=(
  numpy==2.4.6
  safetensors==0.8.0
  filelock==4.3.1
  typing_extensions==4.16.0
  sympy==1.14.0
  mpmath==1.3.0
  networkx==3.6.1
  jinja2==3.1.6
  markupsafe==3.0.4
  fsspec==2026.9.0
)
# The libraries libtorch.so and libtorch_cuda.so are linked against.
CUDA_LIBS=(
  nvidia-cuda-runtime==13.2.86
  nvidia-cublas==13.4.1.3
  nvidia-cufft==12.2.0.57
  nvidia-cufile==1.17.1.22
  nvidia-cuda-cupti==13.2.86
  nvidia-cusparse==12.7.10.12
  nvidia-nvjitlink==13.5.37
  nvidia-cuda-nvrtc==13.2.86
  nvidia-cudnn-cu13==9.26.0.51
  nvidia-cusparselt-cu13==0.8.1
  nvidia-nccl-cu13==2.30.7
  nvidia-nvshmem-cu13==3.7.2
)

# Ray (--ray) and the versions of its dependencies it was tested with (the
# CPU build: no extras; ray[default] would add the dashboard's packages).
RAY=(
  ray==2.60.0
  click==8.5.1
  jsonschema==4.26.0
  jsonschema-specifications==2025.9.1
  referencing==0.37.0
  rpds-py==2026.9.1
  attrs==26.1.0
  msgpack==1.2.4
  packaging==26.4
  protobuf==7.36.2
  PyYAML==6.0.4
  requests==2.34.2
  certifi==2026.10.19.post1
  charset-normalizer==3.5.3
  idna==3.21
  urllib3==2.8.0
)

check_ray() {
  "$venv/bin/python" -c 'import ray, ray.util.scheduling_strategies' 2>/dev/null
}

install_ray() {
  echo "setup-train-env.sh: installing ${RAY[0]} (a 79 MB wheel)" >&2
  "$venv/bin/python" -m pip --disable-pip-version-check --quiet install \
    "${RAY[@]}" >&2 || die "pip could not install ${RAY[*]}"
  check_ray || die "$venv/bin/python cannot import ray after the installation"
}

check() {
  "$venv/bin/python" - <<'EOF' 2>/dev/null
import numpy, safetensors, torch
gru = torch.nn.GRU(3, 4, batch_first=True)
y, _ = gru(torch.ones(2, 5, 3))
y.sum().backward()
assert tuple(y.shape) == (2, 5, 4)
EOF
}

if [ -x "$venv/bin/python" ] && check; then
  echo "setup-train-env.sh: $venv already has torch" >&2
  if [ $with_ray = 1 ] && ! check_ray; then
    install_ray
  fi
  echo "$venv/bin/python"
  exit 0
fi

command -v "$python" >/dev/null || die "$python not found (set PYTHON)"
if [ ! -x "$venv/bin/python" ]; then
  echo "setup-train-env.sh: creating $venv" >&2
  "$python" -m venv "$venv" ||
    die "cannot create a virtual environment at $venv (Debian: apt-get install python3-venv)"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
echo "setup-train-env.sh: installing ${DEPS[*]}" >&2
"${pip[@]}" install "${DEPS[@]}" >&2 || die "pip could not install the dependencies"
echo "setup-train-env.sh: installing $TORCH without its dependencies (about 540 MB)" >&2
"${pip[@]}" install --no-deps "$TORCH" >&2 || die "pip could not install $TORCH"
echo "setup-train-env.sh: installing the CUDA libraries libtorch is linked against" >&2
"${pip[@]}" install --no-deps "${CUDA_LIBS[@]}" >&2 ||
  die "pip could not install ${CUDA_LIBS[*]}"
check || die "$venv/bin/python cannot import and run torch after the installation (run it: $venv/bin/python -c 'import torch')"
if [ $with_ray = 1 ]; then
  install_ray
fi
echo "setup-train-env.sh: done" >&2
echo "$venv/bin/python"
