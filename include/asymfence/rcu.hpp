// SPDX-License-Identifier: Apache-2.0 OR MIT
// Read-copy update with the C++26 interface ([saferecl.rcu], P2545) for C++17
// and later, in namespace asymfence.
//
// Read side. Each thread that reads owns a record (one cache line) with a
// 64-bit section counter that only it writes: odd while it is inside a read
// section. The outermost lock() adds one to the counter with a plain store
// and runs light(); the outermost unlock() adds one more with a release
// store. Neither reads or writes any other line, and neither has a
// read-modify-write or a fence (docs/rcu.md lists the instructions).
//
// Grace period (src/primitives/rcu.cpp): heavy(), then wait, polling with
// backoff, until every record whose counter was odd has changed.
//
// Differences from the standard:
// - rcu_domain cannot be constructed by users (as in the standard); there is
//   one domain, rcu_default_domain().
// - unlock() and retire() never invoke scheduled evaluations (the standard
//   allows both to): deleters run on a helper thread that the first retire
//   starts, outside every read section and internal lock.
// - start_rcu_grace_period / rcu_grace_period_elapsed are extensions.
// - A thread that ends while inside a read section stops the process with a
//   message (the standard makes it undefined).
#ifndef ASYMFENCE_RCU_HPP
#define ASYMFENCE_RCU_HPP

#include <asymfence/export.h>

#include <asymfence/asymfence.hpp>
#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#if defined(__GNUC__) || defined(__clang__)
#define ASYMFENCE_RCU_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define ASYMFENCE_RCU_UNLIKELY(x) (x)
#endif

namespace asymfence {

class rcu_domain;
rcu_domain& rcu_default_domain() noexcept;

namespace detail {

// The reader-visible part of a thread's record. Only its owner writes it;
// grace periods read `counter`.
struct alignas(64) rcu_reader {
  std::atomic<std::uint64_t> counter{0};  // odd: inside a read section
  std::uint32_t nesting = 0;              // owner only
};

extern ASYMFENCE_API ASYMFENCE_READER_TLS rcu_reader* rcu_this_reader;

// First use on this thread: acquires a record (may stop the process with a
// message if memory for it cannot be had).
ASYMFENCE_API rcu_reader* rcu_register_reader() noexcept;

// A retired object, linked into the domain's queue.
struct rcu_node {
  rcu_node* next = nullptr;
  void (*reclaim)(rcu_node*) noexcept = nullptr;  // runs the deleter
};
ASYMFENCE_API void rcu_schedule(rcu_node* node) noexcept;

#if ASYMFENCE_TSAN
// TSan does not see that light() and heavy() order these (both are fences).
inline constexpr std::memory_order rcu_enter_order = std::memory_order_seq_cst;
inline constexpr std::memory_order rcu_exit_order = std::memory_order_seq_cst;
#else
inline constexpr std::memory_order rcu_enter_order = std::memory_order_relaxed;
inline constexpr std::memory_order rcu_exit_order = std::memory_order_release;
#endif

}  // namespace detail

// The RCU domain. Meets Cpp17Lockable, so std::scoped_lock works; read
// sections nest. lock() and unlock() never block.
class rcu_domain {
 public:
  rcu_domain(const rcu_domain&) = delete;
  rcu_domain& operator=(const rcu_domain&) = delete;

  // Opens a region of RCU protection.
  void lock() noexcept {
    detail::rcu_reader* r = detail::rcu_this_reader;
    if (ASYMFENCE_RCU_UNLIKELY(r == nullptr)) r = detail::rcu_register_reader();
    if (r->nesting++ == 0) {
      const std::uint64_t c = r->counter.load(std::memory_order_relaxed);
      r->counter.store(c + 1, detail::rcu_enter_order);
      light();  // A: pairs with B in rcu.cpp (start_grace_period)
    }
  }
  bool try_lock() noexcept {
    lock();
    return true;
  }
  // Closes the most recently opened region. Precondition: one is open.
  void unlock() noexcept {
    detail::rcu_reader* r = detail::rcu_this_reader;
    if (--r->nesting == 0) {
      const std::uint64_t c = r->counter.load(std::memory_order_relaxed);
      // Release: the section's reads happen before whatever a grace period
      // that reads this value lets its caller do next (the acquire in rcu.cpp).
      r->counter.store(c + 1, detail::rcu_exit_order);
    }
  }

 private:
  friend rcu_domain& rcu_default_domain() noexcept;
  constexpr rcu_domain() noexcept = default;
  // The one domain; constant-initialised, so usable from any static
  // initialiser, and reached without a call.
  ASYMFENCE_API static rcu_domain default_domain_;
};

inline rcu_domain& rcu_default_domain() noexcept { return rcu_domain::default_domain_; }

// Returns after every read section that began before the call has ended.
ASYMFENCE_API void rcu_synchronize(rcu_domain& dom = rcu_default_domain()) noexcept;

// Returns after every evaluation scheduled by a retire that happened before
// the call has run.
ASYMFENCE_API void rcu_barrier(rcu_domain& dom = rcu_default_domain()) noexcept;

// Grace-period polling (beyond the standard). A ticket from
// start_rcu_grace_period() is elapsed once every read section that began
// before the call has ended; after rcu_grace_period_elapsed() returns true
// the caller may reclaim what it unlinked before start_rcu_grace_period().
// Neither call blocks; each poll advances the grace period if it can.
struct rcu_ticket {
  std::uint64_t target = 0;
};
ASYMFENCE_API rcu_ticket start_rcu_grace_period(rcu_domain& dom = rcu_default_domain()) noexcept;
ASYMFENCE_API bool rcu_grace_period_elapsed(rcu_ticket ticket,
                                            rcu_domain& dom = rcu_default_domain()) noexcept;

// Base of an RCU-protectable type T: T derives from rcu_obj_base<T, D>.
template <class T, class D = std::default_delete<T>>
class rcu_obj_base {
 public:
  // Schedules d(static_cast<T*>(this)) to run after a grace period. Never
  // blocks; may be called inside a read section.
  void retire(D d = D(), rcu_domain& dom = rcu_default_domain()) noexcept {
    static_assert(std::is_base_of_v<rcu_obj_base, T>, "T must derive from rcu_obj_base<T, D>");
    static_assert(std::is_nothrow_move_constructible_v<D>, "D must be nothrow move constructible");
    (void)dom;
    ::new (static_cast<void*>(&deleter_)) D(std::move(d));
    link_.reclaim = &reclaim_this;
    link_.self = this;
    detail::rcu_schedule(&link_);
  }

 protected:
  // Copies and moves leave the deleter alone: it lives only between retire
  // and reclamation, so D need not be default constructible.
  rcu_obj_base() noexcept {}
  rcu_obj_base(const rcu_obj_base&) noexcept {}
  rcu_obj_base(rcu_obj_base&&) noexcept {}
  rcu_obj_base& operator=(const rcu_obj_base&) noexcept { return *this; }
  rcu_obj_base& operator=(rcu_obj_base&&) noexcept { return *this; }
  ~rcu_obj_base() {}

 private:
  // A member, not a base, so that its names never meet T's.
  struct link : detail::rcu_node {
    rcu_obj_base* self = nullptr;
  };
  static void reclaim_this(detail::rcu_node* n) noexcept {
    rcu_obj_base* self = static_cast<link*>(n)->self;
    D d(std::move(self->deleter_));
    self->deleter_.~D();
    d(static_cast<T*>(self));
  }
  link link_{};
  union {
    D deleter_;  // constructed by retire(), destroyed before d runs
  };
};

// Schedules d(p) to run after a grace period. Allocates a small node
// (std::bad_alloc may escape); never blocks otherwise.
template <class T, class D = std::default_delete<T>>
void rcu_retire(T* p, D d = D(), rcu_domain& dom = rcu_default_domain()) {
  static_assert(std::is_move_constructible_v<D>, "D must be move constructible");
  (void)dom;
  struct node final : detail::rcu_node {
    node(T* q, D&& e) : p(q), d(std::move(e)) {}
    T* p;
    D d;
    static void run(detail::rcu_node* n) noexcept {
      std::unique_ptr<node> self(static_cast<node*>(n));
      self->d(self->p);
    }
  };
  auto* n = new node(p, std::move(d));
  n->reclaim = &node::run;
  detail::rcu_schedule(n);
}

}  // namespace asymfence

#endif
