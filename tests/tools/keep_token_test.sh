#!/usr/bin/env bash
# `nums start --head --keep-token` serves a token shared beforehand (read-only, as a Kubernetes
# Secret is) without rewriting it; nodes and `status` present it, another token is refused.
#
#   keep_token_test.sh NUMS
set -euo pipefail
nums="$1"
dir="$(mktemp -d)"
state="$dir/state"
cleanup() {
  "$nums" --state-dir "$state" stop --token-file "$dir/token" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "0123456789abcdef0123456789abcdef" >"$dir/token"
chmod 0400 "$dir/token"
echo "not-the-token" >"$dir/other"
before="$(cksum <"$dir/token")"

"$nums" --state-dir "$state" start --head --keep-token 2>/dev/null &&
  fail "--keep-token without a token file in the state directory was accepted"
"$nums" --state-dir "$state" start --address 127.0.0.1:1 --keep-token 2>/dev/null &&
  fail "--keep-token was accepted for a node"

"$nums" --state-dir "$state" start --head --port 0 --token-file "$dir/token" --keep-token |
  tee "$dir/start"
[ "$(cksum <"$dir/token")" = "$before" ] || fail "the head rewrote the token file"
[ ! -e "$state/token" ] || fail "the head wrote a token into the state directory"
address="$(cat "$state/head.addr")"
"$nums" --state-dir "$state" start --address "$address" --token-file "$dir/token" --cores 1
"$nums" status --address "$address" --token-file "$dir/token" | tee "$dir/status"
grep -q "1 node(s)" "$dir/status" || fail "the node did not join"
"$nums" status --address "$address" --token-file "$dir/other" >/dev/null 2>&1 &&
  fail "a wrong token was accepted"
# The stop command the head printed works as printed.
stop_command="$(sed -n 's/^stop all: *nums //p' "$dir/start")"
[ -n "$stop_command" ] || fail "no stop command printed"
# shellcheck disable=SC2086  # the printed command's words
"$nums" $stop_command | tee "$dir/stop"
grep -q "asked the head to stop" "$dir/stop" || fail "the printed stop command missed the head"
echo "ok"
