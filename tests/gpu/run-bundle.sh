#!/usr/bin/env bash
# gst-affect: run the GPU check bundle (made by tests/gpu/make-bundle.sh)
# on the GPU machine, or on any machine (without a device the cuda columns
# say so):
#
#   bash run-bundle.sh [WORK_DIR]
#
# Unpacks gpu-bundle.tar.xz (next to this script) into WORK_DIR (default: a
# temporary folder) and runs its bundle-steps.sh, which prints the parity
# and throughput tables. Needs python3 (with numpy; PyTorch with CUDA for
# the PyTorch column) and, for the cuda column, an NVIDIA driver and
# cuBLAS for CUDA 13, and cuDNN 9 for CUDA 13 for the convolutions (found in
# Python's nvidia/ packages — nvidia-cublas, nvidia-cudnn-cu13 —, $CUDA_HOME
# or the system; without cuDNN the module's own kernels serve).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
xz -dc "$here/gpu-bundle.tar.xz" | tar -C "$work" -xf -
exec bash "$work/gpu-bundle/bundle-steps.sh"
