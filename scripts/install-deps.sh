#!/usr/bin/env bash
# Installs the Debian 12 packages nums-cpp builds and tests with (`--bench`: also the peers the
# benchmarks compare against). Idempotent: quiet and quick when
# everything is already there. `--list` prints the package names and installs nothing.
set -euo pipefail
packages=(
  build-essential cmake pkg-config git
  libeigen3-dev libopenblas-dev libtbb-dev libthrift-dev libboost-dev thrift-compiler libhdf5-dev
  libcurl4-openssl-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  # the daemons' Prometheus pages (GET /metrics)
  libcpp-httplib-dev
  # io/zarr: the compressors of numcodecs (zlib and gzip, lz4, zstd, blosc)
  zlib1g-dev liblz4-dev libzstd-dev libblosc-dev
  librandom123-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  iproute2 ca-certificates
  # tests/io checks files against the readers and writers users have (run by /usr/bin/python3).
  python3-numpy python3-h5py python3-zarr
  # tests/deploy lints the Kubernetes manifest; tests/array checks the models and PCA against
  # scikit-learn (both run by /usr/bin/python3).
  python3-yaml python3-sklearn
  # tests/integration/dashboard_test.cc renders the head's dashboard in headless Chromium.
  chromium
)
# With --bench: the reference peers of bench/ (run by /usr/bin/python3).
if [ "${1:-}" = "--bench" ]; then
  packages+=(python3-dask python3-distributed)
fi
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# tests/io's S3 tests run npm's s3rver (an S3-compatible server) on loopback: Debian's nodejs
# and npm, unless a node with its own npm is already installed.
if ! command -v npm >/dev/null; then
  [ "$(id -u)" -ne 0 ] && sudo="sudo" || sudo=""
  echo "installing: nodejs npm"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# The S3 test server, pinned, into .deps/ of this checkout (where tests/io looks for it).
s3rver_dir="$(cd "$(dirname "$0")/.." && pwd)/.deps/s3rver"
if [ ! -f "$s3rver_dir/node_modules/s3rver/package.json" ]; then
  echo "installing: s3rver 3.7.1 (npm) into $s3rver_dir"
  mkdir -p "$s3rver_dir"
  # npm trusts what apt and curl trust here: Debian's CA bundle plus this machine's local CAs
  # (/usr/local/share/ca-certificates, e.g. an egress proxy's).
  ca_bundle="$(mktemp)"
  trap 'rm -f "$ca_bundle"' EXIT
  cat /etc/ssl/certs/ca-certificates.crt /usr/local/share/ca-certificates/*.crt \
    >"$ca_bundle" 2>/dev/null || true
  npm install --prefix "$s3rver_dir" --cafile "$ca_bundle" --no-audit --no-fund --loglevel=error \
    s3rver@3.7.1 >/dev/null
fi
