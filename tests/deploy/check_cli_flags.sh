#!/usr/bin/env bash
# Checks that the deploy examples (examples/deploy/) and README.md's "Running a cluster" section
# use only flags the tools accept: each `nums [options] start|status|stop [flags]` against
# `nums --help` and `nums SUB --help`, each `logistic_regression [flags]` against its --help.
#
#   check_cli_flags.sh SOURCE_DIR NUMS [LOGISTIC_REGRESSION]
set -euo pipefail
src="$1"
nums="$2"
example="${3:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# "TOOL NAME TAKES_VALUE" for each long option of a CLI11 help text (option lines: spaces, '-').
options_of() {
  local tool="$1"
  shift
  "$@" --help | awk -v tool="$tool" '
    /^ +-/ {
      spec = $0
      sub(/^ +/, "", spec)
      sub(/  .*/, "", spec)  # the description starts after two spaces
      m = split(spec, words, " ")
      n = split(words[1], names, ",")
      for (i = 1; i <= n; ++i) if (names[i] ~ /^--/) print tool, names[i], (m > 1)
    }'
}
{
  options_of nums "$nums"
  for sub in start status stop; do options_of "$sub" "$nums" "$sub"; done
  if [ -n "$example" ]; then options_of example "$example"; fi
} >"$work/options"
for tool in nums start status stop ${example:+example}; do
  if ! grep -q "^$tool --help " "$work/options"; then
    echo "no options read from $tool --help" >&2
    exit 1
  fi
done

# Prints "FILE:LINE<TAB>TEXT" per logical line: shell continuations joined, and the items of a
# YAML `command:`/`args:` block sequence (folded scalars included) joined into one line. With
# `section`, only the lines under the Markdown heading `## section`.
logical_lines() {
  awk -v name="$1" -v section="${3:-}" '
    function flush() { if (text != "") print name ":" start "\t" text; text = "" }
    function indent(s) { match(s, /^ */); return RLENGTH }
    section != "" {
      if ($0 ~ /^## /) { flush(); inside = ($0 == "## " section) }
      if (!inside) next
    }
    seq == 1 {  # the line after `command:`: a block sequence or not
      if ($0 ~ /^ *- /) { seq = 2; seq_indent = indent($0) } else { seq = 0; flush() }
    }
    seq == 2 {
      if ($0 ~ /^ *- / && indent($0) == seq_indent) {
        line = $0; sub(/^ *- /, "", line); text = text " " line; next
      }
      if (indent($0) > seq_indent && $0 !~ /^ *$/) { text = text " " $0; next }
      seq = 0; flush()
    }
    /^ *(command|args): *$/ { flush(); seq = 1; start = NR; text = " "; next }
    {
      if (text == "") start = NR
      line = $0
      if (line ~ /\\$/) { sub(/\\$/, " ", line); text = text line; next }
      text = text line; flush()
    }
    END { flush() }' "$2"
}

{
  logical_lines README.md "$src/README.md" "Running a cluster"
  (cd "$src" && find examples/deploy -type f | LC_ALL=C sort) | while read -r f; do
    logical_lines "$f" "$src/$f"
  done
} >"$work/lines"

# VERBOSE=1 prints each command found.
awk -F '\t' -v options="$work/options" -v verbose="${VERBOSE:-0}" '
  BEGIN {
    while ((getline l < options) > 0) {
      split(l, f, " ")
      known[f[1], f[2]] = 1
      takes[f[1], f[2]] = f[3]
      if (f[1] == "example") have_example = 1
    }
  }
  function check(tool, label, flag, where) {
    sub(/=.*/, "", flag)
    if (!((tool, flag) in known)) { print where ": " label " does not take " flag; bad = 1 }
    return flag
  }
  {
    where = $1
    file = where; sub(/:[0-9]+$/, "", file)
    text = $2
    gsub(/["\047]/, "", text)
    gsub(/\$\(\(/, "((", text)  # arithmetic
    while (match(text, /\$\([A-Za-z_][A-Za-z_0-9]*\)/)) {  # $(VAR): a Kubernetes variable
      text = substr(text, 1, RSTART) substr(text, RSTART + 2, RLENGTH - 3) \
             substr(text, RSTART + RLENGTH)
    }
    gsub(/\$\(/, ";", text)      # a command substitution starts a command
    nseg = split(text, segs, /;|&&|\|\||\||&|`| #/)
    for (s = 1; s <= nseg; ++s) {
      m = split(segs[s], w, /[ \t,]+/)
      n = 0
      for (i = 1; i <= m; ++i) {
        sub(/^\$\{[A-Za-z_0-9]*:[-+=?]/, "", w[i])  # ${VAR:+--flag value}
        gsub(/\[|\]/, "", w[i])
        if (w[i] != "") t[++n] = w[i]
      }
      for (i = 1; i <= n; ++i) {
        if (t[i] == "nums" || t[i] ~ /\/nums$/) {
          j = i + 1
          while (j <= n && t[j] ~ /^--/) {  # options before the subcommand
            flag = check("nums", "nums", t[j], where)
            if (t[j] !~ /=/ && takes["nums", flag]) ++j
            ++j
          }
          if (j > n || (t[j] != "start" && t[j] != "status" && t[j] != "stop")) continue
          sub_ = t[j]
          line = "nums " sub_
          for (k = j + 1; k <= n; ++k) {
            if (t[k] ~ /^--/) line = line " " check(sub_, "nums " sub_, t[k], where)
          }
          if (verbose) print where ": " line
          ++commands[file]
          i = n
        } else if (t[i] == "logistic_regression" || t[i] ~ /\/logistic_regression$/) {
          if (!have_example) continue
          line = "logistic_regression"
          for (k = i + 1; k <= n; ++k) {
            if (t[k] ~ /^--/) line = line " " check("example", "logistic_regression", t[k], where)
          }
          if (verbose) print where ": " line
          i = n
        }
      }
    }
  }
  END {
    split("README.md examples/deploy/README.md examples/deploy/slurm/nums-job.sbatch " \
          "examples/deploy/kubernetes/nums-cluster.yaml", required, " ")
    for (r in required) {
      if (required[r] in commands) {
        printf "%s: %d nums commands checked\n", required[r], commands[required[r]]
      } else {
        print required[r] ": no nums start|status|stop found"
        bad = 1
      }
    }
    exit bad
  }' "$work/lines"
