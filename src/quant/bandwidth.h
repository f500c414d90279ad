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

/* The same with a buffer kept between measurements, so they can be spread over
 * a long run (a shared machine's bandwidth changes from second to second) and
 * taken over working sets of several sizes without allocating each time.
 * bandwidth_buffer_new allocates and touches `bytes` (at least 64) and returns
 * NULL when it cannot; bandwidth_read measures as bandwidth_measure does over
 * the buffer's first `bytes` bytes (64..its size; 0.0 otherwise). */
typedef struct BandwidthBuffer BandwidthBuffer;
BandwidthBuffer *bandwidth_buffer_new(size_t bytes);
void bandwidth_buffer_delete(BandwidthBuffer *b);
double bandwidth_read(Pool *pool, BandwidthBuffer *b, size_t bytes, int repeats);

#endif
