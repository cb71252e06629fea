// SPDX-License-Identifier: Apache-2.0 OR MIT
// Test hooks of read_mostly_mutex; not part of the public API.
#ifndef ASYMFENCE_SRC_PRIMITIVES_READ_MOSTLY_MUTEX_INTERNAL_HPP
#define ASYMFENCE_SRC_PRIMITIVES_READ_MOSTLY_MUTEX_INTERNAL_HPP

#include <asymfence/export.h>

#include <cstddef>

namespace asymfence::detail {

// Replaces the writers' heavy() (lock, try_lock) by `barrier`; nullptr puts
// heavy() back. The store-buffering control passes a plain seq_cst fence.
ASYMFENCE_API void set_read_mostly_writer_barrier_for_testing(void (*barrier)()) noexcept;

// Records ever allocated for readers (threads that used a read_mostly_mutex
// at once, at most).
ASYMFENCE_API std::size_t read_mostly_records_for_testing() noexcept;

}  // namespace asymfence::detail

#endif
