#!/bin/sh
# run-all.sh — run every test program given, print a summary, fail if one failed.
# Each test runs from the repository root with QUANTLAB_BIN naming the binary under test.
set -u
export QUANTLAB_DATA="${QUANTLAB_DATA:-$(pwd)}"
# Lesson progress goes to a scratch directory, never the tester's own
# ~/.local/state/quantlab, whatever a test forgets to set.
state=$(mktemp -d "${TMPDIR:-/tmp}/ql-state-XXXXXX") || exit 1
trap 'rm -rf "$state"' EXIT
export XDG_STATE_HOME="$state"
pass=0
fail=0
failed=""
for t in "$@"; do
    if [ ! -x "$t" ]; then
        echo "MISSING $t"; fail=$((fail + 1)); failed="$failed $t"; continue
    fi
    out=$("$t" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1))
        n=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
        printf 'ok    %-40s %s checks\n' "$(basename "$t")" "$n"
    else
        fail=$((fail + 1))
        failed="$failed $t"
        printf 'FAIL  %s (exit %d)\n' "$(basename "$t")" "$rc"
        printf '%s\n' "$out" | grep -v '^\[ \(RUN\|       OK\) ' | tail -n 40 | sed 's/^/      /'
    fi
done
echo "----"
echo "$pass test programs passed, $fail failed"
[ $fail -eq 0 ] || { echo "failed:$failed"; exit 1; }
