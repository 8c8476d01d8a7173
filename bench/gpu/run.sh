#!/usr/bin/env bash
# On a lent GPU machine, from the repository root with the build folder carried: rebuilds the CUDA
# test and benchmark, runs the GPU kernel tests and gpu_bench, and prints one table of nums
# against its references (cuBLAS, cudaMemcpy). Raw output goes under $OUT when it is set.
# Everything runs under `timeout` (15 + 120 + 120 + 180 s): the script ends within 7.5 minutes.
set -u
cd "$(dirname "$0")/../.."
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
echo "raw output: $out"

if command -v nvidia-smi > /dev/null; then
  timeout 15 nvidia-smi 2>&1 | tee "$out/nvidia-smi.txt"
else
  echo "nvidia-smi: not found"
fi

echo "== build (gpu_tests, gpu_bench)"
if [ -f build/CMakeCache.txt ]; then
  if ! timeout 120 cmake --build build -j16 --target gpu_tests gpu_bench > "$out/build.log" 2>&1; then
    echo "build failed or timed out: last lines of $out/build.log (running what is there)"
    tail -20 "$out/build.log"
  fi
else
  echo "no build tree under build/: running the carried binaries as they are"
fi
test_bin=build/tests/gpu_tests
bench_bin=build/bench/gpu_bench

echo "== gpu_tests"
if [ -x "$test_bin" ]; then
  timeout 120 "$test_bin" --gtest_brief=1 > "$out/gpu_tests.txt" 2>&1
  echo "rc $?"
  grep -E "^\[  (PASSED|FAILED|SKIPPED) \]|Failure|error|cuda |no GPU" "$out/gpu_tests.txt" | awk '!seen[$0]++' | head -60
else
  echo "$test_bin missing"
fi

echo "== gpu_bench"
if [ -x "$bench_bin" ]; then
  timeout 180 "$bench_bin" --benchmark_min_time=0.5 --benchmark_format=csv \
    --benchmark_out="$out/gpu_bench.json" --benchmark_out_format=json \
    > "$out/gpu_bench.csv" 2> "$out/gpu_bench.stderr"
  echo "rc $?"
  cat "$out/gpu_bench.csv"
  # One row per pair: nums's time against its reference's (real time, same unit), and the
  # throughput of each.
  awk -F, '
    /^"BM_/ {
      name = $1; gsub(/"/, "", name); sub(/\/.*/, "", name)
      if ($9 == "true" || $3 == "") { err[name] = $10; next }
      t[name] = $3 + 0; bps[name] = $6 + 0
    }
    # ratio: reference time / nums time, or (by_bytes) nums bytes/s / reference bytes/s.
    function row(label, nums, ref, what, by_bytes) {
      if (!(nums in t) || !(ref in t) || t[nums] == 0 || (by_bytes && bps[ref] == 0)) {
        printf "%-34s %s %s\n", label, "no result:", (nums in err) ? err[nums] : err[ref]
        return
      }
      r = by_bytes ? bps[nums] / bps[ref] : t[ref] / t[nums]
      printf "%-34s %12.3f %12.3f %8.3f  %s\n", label, t[nums], t[ref], r, what
    }
    END {
      printf "\n%-34s %12s %12s %8s\n", "pair (ms per iteration)", "nums", "reference", "ratio"
      row("matmul 16384^2 f64, 2x2 blocks", "BM_Matmul_Blocked", "BM_Matmul_Cublas",
          "one cublasDgemm; time ratio (1 = as fast)", 0)
      row("x*y+1, 2^28 f64", "BM_XTimesYPlus1_Nums", "BM_CopyD2D",
          sprintf("D2D cudaMemcpy; bytes/s ratio (%.0f vs %.0f GB/s)", bps["BM_XTimesYPlus1_Nums"] / 1e9, bps["BM_CopyD2D"] / 1e9), 1)
      row("host->device 1 GiB", "BM_ToDevice_Nums", "BM_ToDevice_Pinned",
          "pinned cudaMemcpy; time ratio", 0)
      row("TSQR R, 16M x 64 f64", "BM_Tsqr_Nums", "BM_Geqrf_Cusolver",
          "one cusolverDnDgeqrf of the whole; time ratio", 0)
      row("GLM Newton terms, 16M x 64 f64", "BM_NewtonTerms_Nums", "BM_Syrk_Cublas",
          "floor, compute half: one cublasDsyrk over X; time ratio (goal >= 0.5)", 0)
      row("GLM Newton terms, 16M x 64 f64", "BM_NewtonTerms_Nums", "BM_CopyD2D",
          "floor, read half: X at D2D bandwidth; bytes/s ratio (goal >= 0.5)", 1)
      row("GLM Newton terms, 16M x 64 f64", "BM_NewtonTerms_Nums", "BM_NewtonTerms_Cpu",
          "the CPU kernel on every core; speed-up (goal >= 5)", 0)
    }' "$out/gpu_bench.csv" | tee "$out/ratios.txt"
else
  echo "$bench_bin missing"
fi
