#!/bin/sh
# valgrind.sh — memcheck over the three commands that do the most work on the
# bundled model: generate, quantize and eval (make valgrind; part of .ci/run).
# Any error, and any leak of any kind (definite, indirect, possible, still
# reachable), fails the run. Small -n and --max-tokens keep it to a minute.
#   sh tests/valgrind.sh [BINARY]        default ./quantlab
set -u
bin=${1:-./quantlab}
export QUANTLAB_DATA="${QUANTLAB_DATA:-$(pwd)}"
out=$(mktemp -d /tmp/ql-valgrind-XXXXXX)
trap 'rm -rf "$out"' EXIT
status=0
run() {
    name=$1
    shift
    t0=$(date +%s)
    if valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
        --error-exitcode=99 -q "$bin" "$@" >"$out/$name.out" 2>"$out/$name.err"; then
        echo "ok    valgrind quantlab $name ($(($(date +%s) - t0)) s): no error, no leak"
    else
        status=1
        echo "FAIL  valgrind quantlab $name $*"
        sed 's/^/      /' "$out/$name.err" | tail -n 40
    fi
}
run generate generate -n 24 -p "Once upon a time" --threads 2
run quantize quantize --type q4_0 -o "$out/q4.gguf" --threads 2
run eval eval --type q8_0 --max-tokens 64 --threads 2
exit $status
