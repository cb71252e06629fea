// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "waiter.hpp"

#include <chrono>
#include <climits>
#include <ctime>
#include <thread>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace asymfence::detail {

#if defined(__linux__)
namespace {
// The kernel rechecks the value under its lock, so a wake between our check
// and the sleep is not lost. EAGAIN, EINTR and ETIMEDOUT just return to the
// caller's loop.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const timespec* timeout) noexcept {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, timeout,
          nullptr, 0);
}
}  // namespace

void wait_while_equal(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
  futex_wait(word, expected, nullptr);
}

void wait_while_equal_for(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                          long nanoseconds) noexcept {
  const timespec timeout{nanoseconds / 1'000'000'000, nanoseconds % 1'000'000'000};
  futex_wait(word, expected, &timeout);
}

void wake_all(std::atomic<std::uint32_t>& word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}
#else
void wait_while_equal(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
  if (word.load(std::memory_order_acquire) == expected) std::this_thread::yield();
}

void wait_while_equal_for(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                          long nanoseconds) noexcept {
  if (word.load(std::memory_order_acquire) == expected) {
    std::this_thread::sleep_for(std::chrono::nanoseconds(nanoseconds));
  }
}

void wake_all(std::atomic<std::uint32_t>&) noexcept {}
#endif

}  // namespace asymfence::detail
