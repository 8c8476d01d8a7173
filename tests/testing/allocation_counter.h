#pragma once
// Counts the process's heap allocations: a binary that links allocation_counter.cc has every
// global operator new and delete replaced by ones that count and then call malloc and free.

#include <cstdint>

namespace nums::testing {

/// Allocations through any global operator new since the process started, on every thread.
int64_t AllocationCount();

}  // namespace nums::testing
