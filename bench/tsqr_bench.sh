#!/usr/bin/env bash
# Tall-skinny QR of ROWS x COLS float64 (default 2,000,000 x 32): nums' direct TSQR (the tsqr
# example, NODES embedded nodes sharing the machine's cores) against numpy.linalg.qr and
# dask.array.linalg.tsqr run by /usr/bin/python3 on the same machine (python3-numpy,
# python3-dask: `scripts/install-deps.sh --bench`). Each figure is the best of REPS runs and times the factorization with Q and R
# computed, not the data generation. Data: standard normal entries.
#
#   bench/tsqr_bench.sh [build_dir]     (ROWS, COLS, BLOCKS, NODES, REPS from the environment)
set -euo pipefail
build=${1:-build}
rows=${ROWS:-2000000}
cols=${COLS:-32}
blocks=${BLOCKS:-8}
nodes=${NODES:-2}
reps=${REPS:-3}
cores=$(nproc)
echo "TSQR ${rows} x ${cols} float64, ${blocks} row blocks, ${cores} cores," \
  "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"

best=""
for _ in $(seq "$reps"); do
  t=$("$build/examples/tsqr" "$rows" "$cols" "$blocks" "$nodes" | awk '/time/ {print $2}')
  if [ -z "$best" ] || awk "BEGIN {exit !($t < $best)}"; then best=$t; fi
done
echo "nums direct TSQR ($nodes nodes):   ${best} s"

/usr/bin/python3 - "$rows" "$cols" "$blocks" "$cores" "$reps" <<'PY'
import sys, time
import numpy as np
import dask, dask.array as da

rows, cols, blocks, cores, reps = map(int, sys.argv[1:])
a = np.random.default_rng(1337).standard_normal((rows, cols))

def best(f):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)

def numpy_qr():
    q, r = np.linalg.qr(a)
    assert np.allclose(q[:3] @ r, a[:3])

# OpenBLAS uses every core inside one numpy call.
print(f"numpy.linalg.qr (OpenBLAS threads): {best(numpy_qr):.3f} s")

x = da.from_array(a, chunks=((rows + blocks - 1) // blocks, cols)).persist()

def dask_tsqr():
    q, r = da.linalg.tsqr(x)
    q, r = dask.compute(q, r, scheduler="threads", num_workers=cores)
    assert np.allclose(q[:3] @ r, a[:3])

print(f"dask.array.linalg.tsqr ({cores} threads): {best(dask_tsqr):.3f} s")
PY
