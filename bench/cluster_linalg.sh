#!/usr/bin/env bash
# Matmul and tall-skinny QR on a loopback cluster (a head and NODES `nums` node processes of one
# thread each, the driver the bench process) against ScaLAPACK (pdgemm, pdgeqrf under
# `mpirun -np 2`, one OpenBLAS thread per rank) and single-process OpenBLAS dgemm / LAPACK dgeqrf
# on both cores, all in one run; prints one table. scalapack_peer is built only where MPI and
# Debian's libscalapack-openmpi-dev are installed (not a dependency of nums); without them the
# ScaLAPACK rows are left out.
#
#   bench/cluster_linalg.sh [build_dir]
#
# Environment: N (8192), BLOCKS (matmul block sides, 0 = default: "0 2048 4096"), NODES4 (1: also
# 4 node processes with each of BLOCKS4, "2048"), NBS (pdgemm block sides, "256"), ROWS
# (2000000), COLS (32), QR_BLOCKS (nums row blocks, 0 = default: "0 125000"), GEMM_REPS (1),
# QR_REPS (3), TIMELINE_DIR (set: each nums case runs once more, recording its task timeline to
# DIR/CASE.json). Every case runs once untimed first; figures are the best of the timed runs.
set -euo pipefail
build=${1:-build}
n=${N:-8192}
blocks=${BLOCKS:-0 2048 4096}
nodes4=${NODES4:-1}
blocks4=${BLOCKS4:-2048}
nbs=${NBS:-256}
rows=${ROWS:-2000000}
cols=${COLS:-32}
qr_blocks=${QR_BLOCKS:-0 125000}
gemm_reps=${GEMM_REPS:-1}
qr_reps=${QR_REPS:-3}

cmake --build "$build" -j2 --target cluster_linalg_bench
have_peer=0
# The peer is built on request only (it needs ScaLAPACK and Open MPI); the option is turned off
# again so that the build folder's own checks keep to the packages install-deps.sh installs.
if cmake "$build" -DNUMS_BUILD_SCALAPACK_PEER=ON >/dev/null 2>&1 &&
  cmake --build "$build" -j2 --target scalapack_peer >/dev/null 2>&1; then
  have_peer=1
fi
cmake "$build" -DNUMS_BUILD_SCALAPACK_PEER=OFF >/dev/null
bench=$build/bench/cluster_linalg_bench
peer=$build/bench/scalapack_peer
out=$(mktemp)
trap 'rm -f "$out"' EXIT

run() {
  echo "+ $*" >&2
  # A failed case is reported and left out of the table; the others still run. (Not tee to
  # /dev/stderr: reopening it truncates a log file that stderr is redirected to.)
  local o
  o=$("$@") || echo "FAILED: $*" >&2
  echo "$o" >&2
  grep '^RESULT' <<<"$o" >>"$out" || true
}
mpi() {
  run mpirun --allow-run-as-root --oversubscribe -np 2 -x OPENBLAS_NUM_THREADS=1 "$peer" "$@"
}

echo "$(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run "$bench" dgemm "$n" 2 "$gemm_reps"
timeline() { [ -n "${TIMELINE_DIR:-}" ] && echo "$TIMELINE_DIR/$1.json" || true; }
for b in $blocks; do
  NUMS_BENCH_TIMELINE=$(timeline "matmul2_$b") run "$bench" matmul "$n" 2 "$b" "$gemm_reps"
done
if [ "$nodes4" = 1 ]; then
  for b in $blocks4; do
    NUMS_BENCH_TIMELINE=$(timeline "matmul4_$b") run "$bench" matmul "$n" 4 "$b" "$gemm_reps"
  done
fi
if [ "$have_peer" = 1 ]; then
  for nb in $nbs; do
    mpi gemm "$n" "$nb" 1 2 "$gemm_reps"
    mpi gemm "$n" "$nb" 2 1 "$gemm_reps"
  done
fi
run "$bench" dgeqrf "$rows" "$cols" 2 "$qr_reps"
for b in $qr_blocks; do
  NUMS_BENCH_TIMELINE=$(timeline "qr_$b") run "$bench" qr "$rows" "$cols" 2 "$b" "$qr_reps" reduced
  run "$bench" qr "$rows" "$cols" 2 "$b" "$qr_reps" r
done
if [ "$have_peer" = 1 ]; then mpi qr "$rows" "$cols" $(((rows + 1) / 2)) "$qr_reps"; fi
echo "$(date -u '+%F %T') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

/usr/bin/python3 - "$out" "$n" "$rows" "$cols" <<'PY'
import sys

path, n, m, k = sys.argv[1], *map(int, sys.argv[2:])
rows = []
for line in open(path):
    _, name, secs, *note = line.split(maxsplit=3)
    rows.append((name, float(secs), note[0].strip() if note else ""))
gemm_flops = 2.0 * n**3
r_flops = 2.0 * m * k * k - 2.0 * k**3 / 3  # Householder R
qr_flops = 2 * r_flops  # forming Q explicitly costs about as much again


def find(prefix):
    return next((s for name, s, _ in rows if name.startswith(prefix)), None)


dgemm = find("dgemm")
pdgemm = min((s for name, s, _ in rows if name.startswith("pdgemm")), default=None)
refs = {"r": (find("dgeqrf_"), find("pdgeqrf_")),
        "qr": (find("dgeqrf+dorgqr"), find("pdgeqrf+pdorgqr"))}
print(f"\n| case | seconds | GFLOP/s | speed vs single-process | speed vs ScaLAPACK | note |")
print("|---|---|---|---|---|---|")
for name, secs, note in rows:
    if "gemm" in name or name.startswith("matmul"):
        flops, ref, peer = gemm_flops, dgemm, pdgemm
        ref_name, peer_name = "dgemm", "best pdgemm"
    else:
        kind = "r" if (name.startswith("qr_r_") or name.startswith("dgeqrf_")
                       or name.startswith("pdgeqrf_")) else "qr"
        flops = r_flops if kind == "r" else qr_flops
        ref, peer = refs[kind]
        ref_name = "dgeqrf" if kind == "r" else "dgeqrf+dorgqr"
        peer_name = "pdgeqrf" if kind == "r" else "pdgeqrf+pdorgqr"
    vs_ref = f"{ref / secs:.2f} of {ref_name}" if ref else ""
    vs_peer = f"{peer / secs:.2f}x {peer_name}" if peer else ""
    print(f"| {name} | {secs:.3f} | {flops / secs / 1e9:.1f} | {vs_ref} | {vs_peer} | {note} |")
PY
