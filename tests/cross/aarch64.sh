#!/bin/sh
# aarch64.sh — build the kernel tests for AArch64 and run them under qemu-user.
#
# The NEON kernels (src/quant/kernels_arm.c) cannot run on an x86 machine; this
# cross-compiles tests/unit/test_kernels.c with the kernels it needs, once for
# plain ARMv8 (widening-multiply dot products) and once with the dot-product
# extension (SDOT), and runs both under qemu-aarch64. It checks results, not
# speed. cmocka for AArch64 is not installed, so tests/cross/cmocka.h stands in.
#
#   sh tests/cross/aarch64.sh       (Debian: apt-get install gcc-aarch64-linux-gnu qemu-user)
#
# Prints "skipped" and exits 0 when the cross compiler or qemu is missing.
set -eu
CC=${CROSS_CC:-aarch64-linux-gnu-gcc}
QEMU=${QEMU:-qemu-aarch64}
SYSROOT=${SYSROOT:-/usr/aarch64-linux-gnu}
if ! command -v "$CC" >/dev/null 2>&1 || ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "aarch64 kernel tests skipped: $CC or $QEMU not installed"
    exit 0
fi
OUT=${BUILD:-build}/cross-aarch64
mkdir -p "$OUT"
SRC="src/base/half.c src/base/pool.c src/base/clock.c src/quant/types.c src/quant/kernels.c
     src/quant/kernels_scalar.c src/quant/kernels_x86.c src/quant/kernels_arm.c src/quant/matvec.c
     src/quant/bandwidth.c tests/unit/test_kernels.c"
status=0
for march in armv8-a armv8.2-a+dotprod; do
    exe="$OUT/test_kernels-$(echo "$march" | tr '+.' '__')"
    # tests/cross first on the include path: its cmocka.h replaces the real one
    # shellcheck disable=SC2086
    "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -march="$march" -D_XOPEN_SOURCE=700 \
        -Itests/cross -Isrc -Itests -o "$exe" $SRC -lpthread -lm
    echo "== $march"
    if ! "$QEMU" -L "$SYSROOT" "$exe"; then status=1; fi
done
exit $status
