/* sysmem.h — how much memory this machine has, for refusing work that would not
 * fit before allocating it (model floats, KV caches, tokenizing a huge text).
 *
 * QUANTLAB_MEMORY_BYTES=N in the environment makes quantlab behave as if the
 * machine had N bytes (a whole number, suffixes k/M/G accepted): tests use it to
 * check the refusals on a small model, and a shared classroom machine can use it
 * to keep each copy of quantlab small. Unset, the physical memory is used.
 */
#ifndef QL_BASE_SYSMEM_H
#define QL_BASE_SYSMEM_H

#include <stdbool.h>
#include <stdint.h>

/* Physical memory in bytes, or QUANTLAB_MEMORY_BYTES when set; 0 when unknown. */
uint64_t sysmem_total(void);

/* Whether a working set of `bytes` fits: at most 80% of sysmem_total() (always
 * true when the total is unknown, false when bytes is UINT64_MAX). */
bool sysmem_fits(uint64_t bytes);

#endif
