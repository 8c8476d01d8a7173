#!/usr/bin/env bash
# Fails when a header that the build in BUILD_DIR included comes from a Debian package that
# scripts/install-deps.sh does not install (directly or as a dependency), or from no package at
# all: a package or a file added to this machine by hand would otherwise hide a missing step.
#
#   scripts/check-deps.sh BUILD_DIR
#
# Headers come from the compiler's dependency files (*.d); those inside the source or build tree
# are ours, and those under /usr/local/cuda belong to the CUDA toolkit, which is not a Debian
# package here.
set -euo pipefail
build=$(realpath "${1:?usage: check-deps.sh BUILD_DIR}")
src=$(realpath "$(dirname "$0")/..")
command -v dpkg >/dev/null || { echo "check-deps: needs dpkg (Debian)"; exit 2; }

mapfile -t depfiles < <(find "$build" -name '*.d' -type f)
[ ${#depfiles[@]} -gt 0 ] || { echo "check-deps: no dependency files under $build (build first)"; exit 2; }

# Every path a dependency file names, made absolute and normalised, without our own files.
mapfile -t headers < <(cat "${depfiles[@]}" | tr ' \\' '\n\n' | grep '^/' | grep -v ':$' |
  xargs -r realpath -sm -- | sort -u |
  grep -v -e "^$src/" -e "^$build/" -e '^/usr/local/cuda' || true)
[ ${#headers[@]} -gt 0 ] || { echo "check-deps: no system headers found"; exit 2; }

# The packages install-deps.sh names, and everything they depend on.
mapfile -t wanted < <(bash "$src/scripts/install-deps.sh" --list)
allowed=$(apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances "${wanted[@]}" 2>/dev/null | grep -v '^ ' | sed 's/:.*//' |
  sort -u)

# Owner of each header: dpkg -S prints "pkg[:arch][, pkg2]: path"; unowned paths print nothing.
owners=$(printf '%s\n' "${headers[@]}" | xargs -r dpkg -S 2>/dev/null | grep -v '^diversion' || true)
status=0
unowned=$(comm -23 <(printf '%s\n' "${headers[@]}") <(echo "$owners" | sed 's/^.*: //' | sort -u))
if [ -n "$unowned" ]; then
  # Some headers are reached through a symbolic link whose target dpkg knows under another name.
  still=""
  for h in $unowned; do
    dpkg -S "$(realpath -m "$h")" >/dev/null 2>&1 || still+="$h"$'\n'
  done
  if [ -n "$still" ]; then
    echo "check-deps: headers that no Debian package installed (copied in by hand?):"
    echo -n "$still" | head -n 20 | sed 's/^/  /'
    status=1
  fi
fi
missing=$(echo "$owners" | sed 's/: .*//' | tr ',' '\n' | sed 's/^ *//; s/:.*//' | sort -u |
  comm -23 - <(echo "$allowed"))
if [ -n "$missing" ]; then
  echo "check-deps: the build includes headers of packages scripts/install-deps.sh does not install:"
  for p in $missing; do
    echo "  $p (e.g. $(echo "$owners" | grep -E "(^|, )$p(:[a-z0-9]+)?[,:]" | head -n 1 | sed 's/^.*: //'))"
  done
  status=1
fi
[ $status -eq 0 ] && echo "check-deps: ${#headers[@]} system headers, all from packages install-deps.sh installs"
exit $status
