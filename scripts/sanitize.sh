#!/usr/bin/env bash
# Builds and runs the tests under the sanitizers, each in a build directory of its own:
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer) in build-asan: the
#         engine, array, optimizer, cluster, owner and io tests, with the `nums` daemons and the owner
#         driver they spawn built the same way, so the daemons are checked too.
#   tsan  ThreadSanitizer in build-tsan: the engine tests (executor, object store, leases, the
#         embedded runtime); `tsan-all` adds the array tests (slow: 10x or more).
#   all   asan, then tsan (the default).
# Every process (tests and the daemons they start) writes its reports to files in
# BUILD/sanitizer-logs/, so a finding in a daemon fails the run even when the test passes; the
# script prints them and exits non-zero. Uses ccache when installed. Needs what
# scripts/install-deps.sh installs.
#   bash scripts/sanitize.sh [asan|tsan|tsan-all|all] [ctest arguments...]
#   JOBS=N (default: nproc) sets build and test parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-all}
[ $# -gt 0 ] && shift
jobs=${JOBS:-$(nproc)}

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  # Build dirs differ only below the source root: let them share cache entries.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$root")}
fi

# configure DIR FLAGS: a RelWithDebInfo build with FLAGS, tests on, benchmarks and examples off.
configure() {
  local dir=$1 flags=$2
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" \
    -DNUMS_BUILD_TESTS=ON -DNUMS_BUILD_BENCH=OFF -DNUMS_BUILD_EXAMPLES=OFF >/dev/null
}

# check_logs DIR: prints every sanitizer report written under DIR/sanitizer-logs; fails if any.
check_logs() {
  local logs=$1/sanitizer-logs
  if compgen -G "$logs/*" >/dev/null; then
    for f in "$logs"/*; do
      echo "=== $f"
      cat "$f"
    done
    echo "sanitize: $(ls "$logs" | wc -l) sanitizer report(s) in $logs" >&2
    return 1
  fi
}

# run_tests DIR EXCLUDE [ctest args]: runs DIR's tests but those matching EXCLUDE.
run_tests() {
  local dir=$1 exclude=$2
  shift 2
  rm -rf "$dir/sanitizer-logs"
  mkdir -p "$dir/sanitizer-logs"
  local rc=0
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" -E "$exclude" "$@" || rc=$?
  check_logs "$dir" || rc=1
  return $rc
}

# timed LABEL COMMAND...: runs COMMAND and prints its wall time.
timed() {
  local label=$1
  shift
  local t0=$SECONDS rc=0
  "$@" || rc=$?
  echo "sanitize: $label took $((SECONDS - t0)) s (rc $rc)"
  return $rc
}

asan() {
  local dir=build-asan
  local flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  timed "asan configure" configure "$dir" "$flags"
  mkdir -p "$dir/sanitizer-logs"  # the build's test discovery runs the binaries
  # detect_leaks stays on for daemons too: they stop on SIGTERM through their normal shutdown, so
  # a leak there is real; a daemon a test kills with SIGKILL dies before LeakSanitizer runs and
  # reports nothing.
  export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1:check_initialization_order=1:log_path=$root/$dir/sanitizer-logs/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$root/$dir/sanitizer-logs/ubsan"
  export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
  timed "asan build" cmake --build "$dir" -j"$jobs" --target engine_tests array_tests \
    optimizer_tests cluster_tests owner_tests io_tests io_cluster_tests nums_cli owner_driver
  # Not the install check (it builds a separate project without the sanitizer flags) nor the
  # header-packaging check (nothing to sanitize).
  timed "asan tests" run_tests "$dir" '^(install_find_package|deps_packaged)$' "$@"
}

tsan() {
  local dir=build-tsan with_array=${1:-}
  [ $# -gt 0 ] && shift
  local flags="-fsanitize=thread -fno-omit-frame-pointer"
  timed "tsan configure" configure "$dir" "$flags"
  mkdir -p "$dir/sanitizer-logs"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4:suppressions=$root/scripts/tsan.supp:log_path=$root/$dir/sanitizer-logs/tsan"
  local targets=(engine_tests)
  [ -n "$with_array" ] && targets+=(array_tests)
  timed "tsan build" cmake --build "$dir" -j"$jobs" --target "${targets[@]}"
  # Only the GoogleTest cases (Suite.Name) of the binaries built here.
  timed "tsan tests" run_tests "$dir" '^[^.]*$' "$@"
}

case "$mode" in
  asan) asan "$@" ;;
  tsan) tsan "" "$@" ;;
  tsan-all) tsan array "$@" ;;
  all) asan "$@" && tsan "" "$@" ;;
  *) echo "usage: $0 [asan|tsan|tsan-all|all] [ctest arguments...]" >&2; exit 2 ;;
esac
