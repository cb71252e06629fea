// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "waiter.hpp"

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
void wait_while_equal(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      std::uint32_t limit_ms) noexcept {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  // The kernel rechecks the value under its lock, so a wake between our check
  // and the sleep is not lost. EAGAIN, EINTR and ETIMEDOUT just return to the
  // caller's loop.
  timespec limit{static_cast<time_t>(limit_ms / 1000),
                 static_cast<long>(limit_ms % 1000) * 1'000'000L};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, &limit,
          nullptr, 0);
}

void wake_all(std::atomic<std::uint32_t>& word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}
#else
void wait_while_equal(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                      std::uint32_t) noexcept {
  if (word.load(std::memory_order_acquire) == expected) std::this_thread::yield();
}

void wake_all(std::atomic<std::uint32_t>&) noexcept {}
#endif

}  // namespace asymfence::detail
