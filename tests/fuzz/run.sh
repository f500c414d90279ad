#!/bin/sh
# run.sh — runs libFuzzer targets one after another (make fuzz, make fuzz-smoke).
#   sh tests/fuzz/run.sh BIN_DIR SECONDS "TARGETS" "EXTRA LIBFUZZER OPTIONS"
# Each target starts from its committed seeds (tests/fuzz/corpus/<t>/) plus
# what earlier runs found (build/fuzz/corpus/<t>/, where new inputs go), with
# bounded memory and a per-input timeout, and reports its executions. A crash,
# leak, timeout or out-of-memory ends that target (the others still run): the input is left in
# build/fuzz/crashes/ — copy it to tests/fuzz/regress/<t>/ once fixed.
set -u
bin_dir=$1
seconds=$2
targets=$3
extra=${4:-}
mkdir -p build/fuzz/crashes
status=0
summary=""
for t in $targets; do
    mkdir -p "build/fuzz/corpus/$t"
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    log="build/fuzz/$t.log"
    echo "fuzz_$t: ${seconds}s"
    # -rss_limit_mb / -malloc_limit_mb: an input that makes us allocate more than
    # this is a bug (a size taken from the file without a check), reported as such.
    # shellcheck disable=SC2086
    "$bin_dir/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=1024 -print_final_stats=1 -close_fd_mask=1 \
        -artifact_prefix="build/fuzz/crashes/$t-" $dict $extra \
        "build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ $rc -ne 0 ]; then
        status=1
        echo "fuzz_$t: FAILED (exit $rc) after ${execs:-?} executions; see $log"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant failed|artifact_prefix|Test unit written)' "$log" | head -n 8
    else
        echo "fuzz_$t: ok, ${execs:-?} executions, $cov"
    fi
    summary="$summary
  fuzz_$t: ${execs:-?} executions${cov:+, $cov}$( [ $rc -ne 0 ] && echo ', FAILED')"
done
echo "----$summary"
exit $status
