#!/usr/bin/env bash
# Runs the side-by-side comparisons with NumPy and Dask (logistic regression, tall-skinny QR,
# matmul) on this machine in one go and writes their output into bench/RESULTS.md between the
# "side-by-side" markers. Needs a Release build with benchmarks and examples, and the peers:
# `scripts/install-deps.sh --bench`.
#
#   bench/side_by_side.sh [build_dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=$(mktemp)
{
  echo "Command: \`bench/side_by_side.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores," \
    "load average $(cut -d' ' -f1 /proc/loadavg) at the start, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}."
  echo
  echo '```'
  /usr/bin/python3 bench/glm_bench.py --binary "$build/examples/logistic_regression"
  BLOCKS=16 REPS=2 bash bench/tsqr_bench.sh "$build"
  /usr/bin/python3 bench/matmul_bench.py --bench "$build/bench/array_bench"
  echo '```'
} | tee "$out"
/usr/bin/python3 - "$out" <<'PY'
import re, sys
body = open(sys.argv[1]).read().strip()
path = "bench/RESULTS.md"
text = open(path).read()
begin, end = "<!-- side-by-side: begin -->", "<!-- side-by-side: end -->"
block = f"{begin}\n{body}\n{end}"
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: block, text, flags=re.S)
else:
    text += "\n## Side by side with NumPy and Dask (issue: linear algebra and GLMs)\n\n" + block + "\n"
open(path, "w").write(text)
PY
rm -f "$out"
