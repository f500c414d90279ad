#!/bin/sh
# replay.sh — template of $(BUILD)/tests/test_fuzz_replay (the Makefile fills in
# the two @...@ names): runs every fuzz target, built with standalone.c, over its
# seed corpus (tests/fuzz/corpus/<target>/) and the crashes found so far
# (tests/fuzz/regress/<target>/). Part of make test and make check, so a fixed
# crash stays fixed, also without clang. Prints cmocka-style lines.
# Run from the repository root (tests/run-all.sh does).
set -u
bin_dir='@FUZZ_BIN_DIR@'
targets='@FUZZ_TARGETS@'
fail=0
for t in $targets; do
    dirs=""
    for d in tests/fuzz/corpus/$t tests/fuzz/regress/$t; do
        [ -d "$d" ] && dirs="$dirs $d"
    done
    if [ -z "$dirs" ]; then
        echo "[  FAILED  ] fuzz_$t: no corpus in tests/fuzz/corpus/$t"
        fail=1
        continue
    fi
    # shellcheck disable=SC2086
    if out=$("$bin_dir/fuzz_$t" $dirs 2>&1); then
        echo "[       OK ] fuzz_$t: $(printf '%s\n' "$out" | tail -n 1)"
    else
        printf '%s\n' "$out" | tail -n 30
        echo "[  FAILED  ] fuzz_$t"
        fail=1
    fi
done
exit $fail
