// Counts the heap allocations the process makes: the benchmark executable defines malloc and its
// relatives, which the dynamic linker then uses for every library in the process (Swift's runtime
// included), and forwards each call to glibc's allocator. Counting is off until enabled, and costs
// one predictable branch per call while off.
#ifndef SESSION_ALLOCATION_COUNTER_H
#define SESSION_ALLOCATION_COUNTER_H

#include <stdint.h>

/// Zeroes the counts and starts counting (all threads).
void allocation_counter_start(void);

/// Stops counting.
void allocation_counter_stop(void);

/// Allocations (malloc, calloc, realloc, aligned allocations) counted since the last start.
uint64_t allocation_counter_allocations(void);

/// Bytes requested by those allocations.
uint64_t allocation_counter_bytes(void);

#endif
