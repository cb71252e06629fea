// SPDX-License-Identifier: Apache-2.0 OR MIT
// Test hooks of read_mostly_mutex; not part of the public API.
#ifndef ASYMFENCE_SRC_PRIMITIVES_READ_MOSTLY_MUTEX_INTERNAL_HPP
#define ASYMFENCE_SRC_PRIMITIVES_READ_MOSTLY_MUTEX_INTERNAL_HPP

#include <asymfence/export.h>

#include "../test_api.hpp"

#include <asymfence/read_mostly_mutex.hpp>
#include <cstddef>

namespace asymfence::detail {

// Replaces the writers' heavy() (lock, try_lock) by `barrier`; nullptr puts
// heavy() back. The store-buffering control passes a plain seq_cst fence.
ASYMFENCE_TEST_API void set_read_mostly_writer_barrier_for_testing(void (*barrier)()) noexcept;

// Records ever allocated for readers (threads that used a read_mostly_mutex
// at once, at most).
ASYMFENCE_TEST_API std::size_t read_mostly_records_for_testing() noexcept;

// The writer's half of the handshake on its own, for the store-buffering
// test: raises m's flag, runs the writers' barrier, and reports whether
// `reader`'s slots show m (a writer's scan restricted to one record). Call
// lower_flag_for_testing(m) afterwards. No writer may use m meanwhile.
ASYMFENCE_TEST_API bool raise_flag_and_look_for_testing(read_mostly_mutex& m,
                                                   const read_mostly_reader& reader) noexcept;
ASYMFENCE_TEST_API void lower_flag_for_testing(read_mostly_mutex& m) noexcept;

}  // namespace asymfence::detail

#endif
