#!/bin/sh
# Builds the fake CUDA runtime the integration tests bind (fakecudart.c) into $1, against the
# installed CUDA 13 headers ($CUDA_HOME/include, default /usr/local/cuda): test scope only, never
# packaged. Without the headers nothing is built (a warning); the CUDA integration tests then fail
# saying the library is missing, and everything else builds.
set -eu
cuda="${CUDA_HOME:-/usr/local/cuda}"
if [ ! -f "$cuda/include/cuda_runtime_api.h" ]; then
  echo "fakecudart: no CUDA 13 headers under $cuda/include (install the CUDA 13 toolkit or set CUDA_HOME): WARNING: the fake runtime is not built" >&2
  exit 0
fi
mkdir -p "$1"
"${CC:-gcc}" -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -fPIC -shared \
  -I"$cuda/include" -o "$1/libte_fakecudart.so" "$(dirname "$0")/fakecudart.c" -lpthread
echo "fakecudart: built $1/libte_fakecudart.so"
