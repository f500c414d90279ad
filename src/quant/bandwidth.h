/* bandwidth.h — how fast this machine reads memory, for "fraction of the bound".
 *
 * A matrix-vector product reads every weight once and does little with it, so
 * its best possible speed is (bytes of weights) / (read bandwidth). `quantlab
 * bench` measures the bandwidth here and prints each format's decode speed as a
 * fraction of that bound.
 */
#ifndef QL_QUANT_BANDWIDTH_H
#define QL_QUANT_BANDWIDTH_H

#include <stddef.h>

#include "base/pool.h"

/* Read bandwidth in bytes per second: a buffer of `bytes` bytes (allocated and
 * touched here, freed before returning) is summed by every thread of `pool`
 * (NULL: the calling thread alone), each thread one contiguous share. Each of
 * `repeats` rounds (at least 1) times one pass with every way of reading
 * bandwidth.c knows (plain, software-prefetched, AVX2); the fastest pass counts. The buffer should be several times
 * the last-level cache to measure memory rather than cache. Returns 0.0 when the
 * buffer cannot be allocated or bytes is 0. */
double bandwidth_measure(Pool *pool, size_t bytes, int repeats);

#endif
