// SPDX-License-Identifier: Apache-2.0 OR MIT
// Blocking until a 32-bit word changes: a futex on Linux, yielding elsewhere.
#ifndef ASYMFENCE_SRC_WAITER_HPP
#define ASYMFENCE_SRC_WAITER_HPP

#include <atomic>
#include <cstdint>

namespace asymfence::detail {

// Blocks while word == expected, for at most about limit_ms milliseconds
// (may return early, spuriously).
void wait_while_equal(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      std::uint32_t limit_ms) noexcept;

// Wakes every thread blocked in wait_while_equal on word.
void wake_all(std::atomic<std::uint32_t>& word) noexcept;

// A pause instruction for spin loops.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace asymfence::detail

#endif
