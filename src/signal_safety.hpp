// SPDX-License-Identifier: Apache-2.0 OR MIT
// What a call made from a signal handler needs: per-thread flags that tell it
// what the interrupted call on the same thread was doing, readable without a
// lock or an allocation, and errno left as the interrupted code had it.
#ifndef ASYMFENCE_SRC_SIGNAL_SAFETY_HPP
#define ASYMFENCE_SRC_SIGNAL_SAFETY_HPP

#include <cerrno>

// A thread_local of trivial type that a signal handler may read: the
// initial-exec model places it in the static TLS block, so the first access
// in a thread never allocates (the general-dynamic model of a shared library
// may call malloc there).
#if defined(__GNUC__) && defined(__ELF__)
#define ASYMFENCE_SIGNAL_SAFE_THREAD_LOCAL thread_local __attribute__((tls_model("initial-exec")))
#else
#define ASYMFENCE_SIGNAL_SAFE_THREAD_LOCAL thread_local
#endif

namespace asymfence::detail {

// Puts errno back when the scope ends: the library's own system calls (futex
// time-outs, retried errors) must not change what a handler's caller sees.
class errno_preserved {
 public:
  errno_preserved() noexcept : saved_(errno) {}
  ~errno_preserved() { errno = saved_; }
  errno_preserved(const errno_preserved&) = delete;
  errno_preserved& operator=(const errno_preserved&) = delete;

 private:
  int saved_;
};

}  // namespace asymfence::detail

#endif
