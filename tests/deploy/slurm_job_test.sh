#!/usr/bin/env bash
# Runs examples/deploy/slurm/nums-job.sbatch on this machine against stand-ins for Slurm: `srun`
# runs a step once per "node" (node0, node1: names that do not resolve), each with its own
# TMPDIR and SLURM_* variables; `scontrol` lists them and gives node1 a NodeAddr; `hostname -I`
# gives each node its own loopback address (127.0.1.1, 127.0.1.2). The real `nums` runs the
# cluster and a stand-in `logistic_regression` records `nums status`. Checks, for
# --mem-per-cpu (SLURM_MEM_PER_CPU x SLURM_CPUS_ON_NODE) and for --mem (SLURM_MEM_PER_NODE), the
# memory each node claims, that each daemon binds its node's address, and that the job leaves no
# state directory and no daemon behind.
#
#   slurm_job_test.sh SOURCE_DIR NUMS
set -euo pipefail
src="$(cd "$1" && pwd)"
nums="$(realpath "$2")"
work="$(mktemp -d)"
cleanup() {
  # Daemons the job may have left: only those started from this test's directories.
  for f in "$work"/submit/.nums-*/pids/* "$work"/tmp-*/nums-*/pids/*; do
    if [ -e "$f" ]; then kill -9 "${f##*.}" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

mkdir -p "$work/bin" "$work/build/tools" "$work/build/examples" "$work/submit"
ln -s "$nums" "$work/build/tools/nums"

# Node k of the stand-in allocation.
cat >"$work/bin/scontrol" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
case "$1 $2" in
  "show hostnames") for ((k = 0; k < SLURM_JOB_NUM_NODES; ++k)); do echo "node$k"; done ;;
  "show node")
    k="${3#node}"
    # node0's NodeAddr is its name (unresolvable): the script must fall back to hostname -I.
    if [ "$k" = 0 ]; then addr="node0"; else addr="127.0.1.$((k + 1))"; fi
    echo "NodeName=$3 Arch=x86_64 CoresPerSocket=1"
    echo "   NodeAddr=$addr NodeHostName=$3 Version=23.02.6"
    ;;
  *) echo "scontrol stand-in: $*" >&2; exit 2 ;;
esac
EOF
cat >"$work/bin/hostname" <<'EOF'
#!/usr/bin/env bash
if [ "${1:-}" = "-I" ]; then
  k="${SLURMD_NODENAME#node}"
  echo "127.0.1.$((k + 1)) fd00::$((k + 1)) "
else
  exec /bin/hostname "$@"
fi
EOF
# srun [--overlap] [--nodes=N] [--ntasks=1] [--nodelist=H] [--ntasks-per-node=1]
#      [--cpus-per-task=C] CMD...: CMD once per node of --nodelist, else of the first N nodes.
cat >"$work/bin/srun" <<EOF
#!/usr/bin/env bash
set -uo pipefail
work="$work"
EOF
cat >>"$work/bin/srun" <<'EOF'
nodes="$SLURM_JOB_NUM_NODES"
nodelist=""
while [[ "$1" == --* ]]; do
  case "$1" in
    --nodes=*) nodes="${1#*=}" ;;
    --nodelist=*) nodelist="${1#*=}" ;;
    --overlap | --ntasks=* | --ntasks-per-node=* | --cpus-per-task=*) ;;
    *) echo "srun stand-in: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
names=()
if [ -n "$nodelist" ]; then names=("$nodelist"); else
  for ((k = 0; k < nodes; ++k)); do names+=("node$k"); done
fi
pids=()
for name in "${names[@]}"; do
  k="${name#node}"
  mkdir -p "$work/tmp-$name"
  SLURMD_NODENAME="$name" SLURM_NODEID="$k" SLURM_PROCID="$k" TMPDIR="$work/tmp-$name" \
    "$@" &
  pids+=("$!")
done
trap 'kill "${pids[@]}" 2>/dev/null' TERM INT
status=0
for p in "${pids[@]}"; do wait "$p" || status=$?; done
exit "$status"
EOF
# The driver: records what the cluster looks like.
cat >"$work/build/examples/logistic_regression" <<EOF
#!/usr/bin/env bash
set -euo pipefail
[ "\$1" = --address ] && [ "\$3" = --token-file ] || { echo "driver: bad arguments \$*" >&2; exit 2; }
echo "\$2" >"$work/driver-address"
nums status --address "\$2" --token-file "\$4" >"$work/status"
EOF
chmod +x "$work/bin/"* "$work/build/examples/logistic_regression"

# Whether a process started from this test's directories still runs (procps may be missing).
daemons_left() {
  local f
  for f in /proc/[0-9]*/cmdline; do
    tr '\0' ' ' <"$f" 2>/dev/null | grep -q -- "--state-dir $work/" && return 0
  done
  return 1
}

port_free() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.1.1", 0)); print(s.getsockname()[1])'
}

# run_job NAME VAR=VALUE...: the batch script under a stand-in allocation of 2 nodes, 3 CPUs each.
run_job() {
  local name="$1"
  shift
  rm -f "$work/status" "$work/driver-address"
  (
    cd "$work/submit"
    env -u SLURM_MEM_PER_NODE -u SLURM_MEM_PER_CPU PATH="$work/bin:$PATH" \
      SLURM_JOB_ID=4242 SLURM_JOB_NUM_NODES=2 SLURM_JOB_NODELIST="node[0-1]" \
      SLURM_SUBMIT_DIR="$work/submit" SLURM_CPUS_ON_NODE=3 SLURM_CPUS_PER_TASK=3 \
      NUMS_BUILD="$work/build" NUMS_PORT="$(port_free)" "$@" \
      timeout 120 bash "$src/examples/deploy/slurm/nums-job.sbatch"
  ) >"$work/$name.log" 2>&1 || {
    local rc=$?
    cat "$work/$name.log" >&2
    fail "$name: the job failed (exit status $rc)"
  }
  [ -s "$work/status" ] || fail "$name: the driver did not run"
  echo "--- $name: nums status"
  cat "$work/status"
  case "$(cat "$work/driver-address")" in
    127.0.1.1:*) ;;
    *) fail "$name: the head is at $(cat "$work/driver-address"), not node0's 127.0.1.1" ;;
  esac
  [ "$(grep -c ' live' "$work/status")" = 2 ] || fail "$name: not 2 live nodes"
  for k in 0 1; do
    grep -q "  127\.0\.1\.$((k + 1)):[0-9]*  cores 3  memory $((mem_mib * 1048576))  live" \
      "$work/status" || fail "$name: node$k is not at 127.0.1.$((k + 1)) with 3 cores and $mem_mib MiB"
  done
  # Nothing is left: the shared state directory, each node's, and every daemon.
  [ ! -e "$work/submit/.nums-4242" ] || fail "$name: $work/submit/.nums-4242 is left"
  for k in 0 1; do
    [ ! -e "$work/tmp-node$k/nums-4242" ] || fail "$name: node$k's state directory is left"
  done
  for _ in $(seq 50); do
    daemons_left || break
    sleep 0.1
  done
  if daemons_left; then fail "$name: daemons are left"; fi
}

# --mem-per-cpu=512 (or DefMemPerCPU): 512 MiB x 3 CPUs on each node.
mem_mib=1536
run_job mem-per-cpu SLURM_MEM_PER_CPU=512
# --mem=1000: what the node was given, whatever its CPUs.
mem_mib=1000
run_job mem SLURM_MEM_PER_NODE=1000
echo "slurm job: memory, addresses and clean-up as expected"
