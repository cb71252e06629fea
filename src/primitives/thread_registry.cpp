// SPDX-License-Identifier: Apache-2.0 OR MIT
// The per-thread registry (protocol at the top of thread_registry.hpp).
//
// Thread exit. Each thread keeps the records it holds in a list of its own.
// On POSIX the list hangs off a pthread key whose destructor releases them:
// key destructors run after every C++ thread_local destructor, so a
// thread_local object whose destructor still uses a primitive finds its record
// in place (or acquires a new one, which the key's next round releases).
#include "thread_registry.hpp"

#include <cstdio>
#include <cstdlib>

#include "../errors.hpp"
#include "../process_mark.hpp"

#if defined(__unix__)
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace asymfence::detail {
namespace {

constexpr int repairing = -1;  // registry_core::process_ while a repair runs

// Registries that hold records, for the fork handler. There are three
// primitives; the bound leaves room for test registries.
constexpr int max_registries = registry_marks;
std::atomic<registry_core*> registries[max_registries];
std::atomic<int> registry_count{0};

int remember(registry_core* r) noexcept {
  int slot = registry_count.fetch_add(1, std::memory_order_acq_rel);
  if (slot >= max_registries) stop("more than %d per-thread registries", max_registries);
  registries[slot].store(r, std::memory_order_release);
  return slot;
}

// A fork mark per registry (process_mark.hpp): set while its records are
// known to belong to this process, so that a scan skips getpid() (a system
// call) where the marks lie on a page that children receive zeroed.
process_mark registry_mark(int index) noexcept {
  return static_cast<process_mark>(static_cast<int>(process_mark::registry_first) + index);
}

void mark_not_forked(int index) noexcept {
  if (index >= 0) set_for_this_process(registry_mark(index));
}

int current_process() noexcept {
#if defined(__unix__)
  return static_cast<int>(getpid());
#else
  return 1;  // no fork
#endif
}

// The calling thread's records (a list through next_of_thread).
#if defined(__unix__)
__thread registry_node* records_of_this_thread = nullptr;
pthread_key_t exit_key;
pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

void release_records_of_exiting_thread(void*) noexcept {
  registry_node* n = records_of_this_thread;
  records_of_this_thread = nullptr;
  while (n != nullptr) {
    registry_node* next = n->next_of_thread;
    n->owner_registry->release(n, true);
    n = next;
  }
}

void release_others_in_child() noexcept {
  int count = registry_count.load(std::memory_order_acquire);
  if (count > max_registries) count = max_registries;
  for (int i = 0; i < count; ++i) {
    registry_core* r = registries[i].load(std::memory_order_acquire);
    if (r != nullptr) r->release_all_but(records_of_this_thread);
  }
}

void create_exit_key() noexcept {
  if (pthread_key_create(&exit_key, release_records_of_exiting_thread) != 0)
    stop("cannot create the thread-exit key of the per-thread registry");
  pthread_atfork(nullptr, nullptr, release_others_in_child);
}

void track_for_exit(registry_node* n) {
  pthread_once(&exit_key_once, create_exit_key);
  n->next_of_thread = records_of_this_thread;
  records_of_this_thread = n;
  // Any non-null value arms the destructor; set again after each exit round.
  pthread_setspecific(exit_key, &exit_key);
}

// The child's initial thread is the one that forked; only it knows which of
// the parent's records are its own.
bool is_initial_thread_of_process() noexcept {
#if defined(__linux__)
  return static_cast<long>(syscall(SYS_gettid)) == static_cast<long>(getpid());
#else
  return false;
#endif
}
#else
struct exit_guard {
  registry_node* records = nullptr;
  ~exit_guard() {
    while (records != nullptr) {
      registry_node* n = records;
      records = n->next_of_thread;
      n->owner_registry->release(n, true);
    }
  }
};
thread_local exit_guard this_thread_records;
void track_for_exit(registry_node* n) {
  n->next_of_thread = this_thread_records.records;
  this_thread_records.records = n;
}
#endif

bool held_by(const registry_node* n, const registry_node* list) noexcept {
  for (; list != nullptr; list = list->next_of_thread) {
    if (list == n) return true;
  }
  return false;
}

}  // namespace

registry_node* registry_core::acquire() {
  int expected_process = 0;
  const int self = current_process();
  if (process_.load(std::memory_order_acquire) == 0 &&
      process_.compare_exchange_strong(expected_process, self, std::memory_order_acq_rel)) {
    index_.store(remember(this), std::memory_order_release);
  }
  registry_node* n = nullptr;
  for (registry_node* m = head_.load(std::memory_order_acquire); m != nullptr; m = m->next) {
    bool free = false;
    // acq_rel: a repairing scanner that reads this acquisition also reads the
    // releaser's owner_process = 0 (see repair_if_forked).
    if (!m->in_use.load(std::memory_order_relaxed) &&
        m->in_use.compare_exchange_strong(free, true, std::memory_order_acq_rel)) {
      n = m;
      break;
    }
  }
  if (n == nullptr) {
    n = hooks_.allocate();
    n->in_use.store(true, std::memory_order_relaxed);
    n->owner_process.store(self, std::memory_order_relaxed);
    n->owner_registry = this;
    registry_node* old_head = head_.load(std::memory_order_relaxed);
    do {
      n->next = old_head;
    } while (!head_.compare_exchange_weak(old_head, n, std::memory_order_release,
                                          std::memory_order_relaxed));
    size_.fetch_add(1, std::memory_order_relaxed);
  }
  n->owner_process.store(self, std::memory_order_relaxed);
  track_for_exit(n);
  return n;
}

void registry_core::release(registry_node* n, bool holder_alive) noexcept {
  if (holder_alive && hooks_.on_owner_exit != nullptr) hooks_.on_owner_exit(n);
  if (!holder_alive) hooks_.reset(n);
  n->next_of_thread = nullptr;
  n->owner_process.store(0, std::memory_order_relaxed);
  n->in_use.store(false, std::memory_order_release);
}

// Releases the records of the parent's other threads: held, acquired in
// another process, and not the caller's own. A record that a thread of this
// process acquires meanwhile shows this process's id, or 0 until it is
// written, and is left alone.
void registry_core::release_parent_records(registry_node* keep, int self) noexcept {
  for (registry_node* n = head_.load(std::memory_order_acquire); n != nullptr; n = n->next) {
    if (!n->in_use.load(std::memory_order_acquire)) continue;
    const int owner = n->owner_process.load(std::memory_order_relaxed);
    if (owner != 0 && owner != self && !held_by(n, keep)) release(n, false);
  }
}

void registry_core::release_all_but(registry_node* keep) noexcept {
  const int self = current_process();
  release_parent_records(keep, self);
  process_.store(self, std::memory_order_release);
  mark_not_forked(index_.load(std::memory_order_acquire));
}

void registry_core::repair_if_forked() noexcept {
#if defined(__unix__)
  const int index = index_.load(std::memory_order_acquire);
  if (index >= 0 && set_by_this_process(registry_mark(index))) return;
  const int self = current_process();
  for (;;) {
    int recorded = process_.load(std::memory_order_acquire);
    if (recorded == 0) return;  // nothing acquired yet
    if (recorded == self) {     // no fork since
      mark_not_forked(index);
      return;
    }
    if (recorded == repairing) {
      sched_yield();  // another scanner of this child is repairing
      continue;
    }
    if (process_.compare_exchange_strong(recorded, repairing, std::memory_order_acq_rel)) break;
  }
  // A child made without fork()'s handlers. Its initial thread is the one
  // that forked: it knows which records are its own and can release the rest.
  bool parent_records_held = false;
  for (registry_node* n = head_.load(std::memory_order_acquire); n != nullptr; n = n->next) {
    const int owner = n->owner_process.load(std::memory_order_relaxed);
    if (n->in_use.load(std::memory_order_acquire) && owner != 0 && owner != self &&
        !held_by(n, records_of_this_thread)) {
      parent_records_held = true;
    }
  }
  if (parent_records_held && !is_initial_thread_of_process()) {
    stop(
        "a process created without fork()'s atfork handlers (_Fork, clone) holds per-thread "
        "records of its parent's threads, and the thread scanning them is not the one that "
        "forked: create the child with fork(), or make the first scan from the forking thread");
  }
  release_parent_records(records_of_this_thread, self);
  process_.store(self, std::memory_order_release);
  mark_not_forked(index);
#endif
}

}  // namespace asymfence::detail
