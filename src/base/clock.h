/* clock.h — a monotonic clock for measured speeds (tokens/s, throughput). */
#ifndef QL_BASE_CLOCK_H
#define QL_BASE_CLOCK_H

/* Seconds since an arbitrary fixed point; only differences are meaningful. */
double clock_now(void);

#endif
