// SPDX-License-Identifier: Apache-2.0 OR MIT
// The per-thread registry that hazard pointers, RCU and read_mostly_mutex
// share: one record per live thread and primitive, found by scanners.
//
// Records. Each primitive keeps its own registry of records of its own type
// (derived from registry_node, cache-line aligned so that a reader's stores
// stay on its own line). A thread acquires a record on first use and keeps it
// in a thread-local pointer owned by the primitive; the registry releases it
// when the thread exits, after the primitive's `on_owner_exit` hook ran, and
// hands it to the next thread that needs one. Records are never freed: a
// scanner may hold a pointer to any of them at any time, and the list only
// grows (to the largest number of threads that used the primitive at once).
//
// Scanning. for_each_in_use() visits every record that a thread holds. The
// list is pushed at the head with a compare-exchange and never unlinked, so
// iteration needs no lock and a scanner never blocks a thread that registers.
// A record acquired after the scan began may be missed; primitives make that
// harmless by ordering the scan after the barrier that the new thread's read
// side pairs with (each primitive's file says how).
//
// Fork. A child has one thread, but records held by its parent's other
// threads still say "in use" (and may show a read section or a shared lock
// that no thread of the child will end). fork() runs an atfork handler that
// releases every record not held by the forking thread; children made without
// the handlers (_Fork, a raw clone) are noticed by scanners, which compare the
// process id (a fork mark, process_mark.hpp, spares them the system call), and
// repaired the same way when the scanning thread is the one
// that forked (its thread id equals the process id). Any other case stops the
// process with a message: it is never silently wrong and never hangs.
#ifndef ASYMFENCE_SRC_PRIMITIVES_THREAD_REGISTRY_HPP
#define ASYMFENCE_SRC_PRIMITIVES_THREAD_REGISTRY_HPP

#include <atomic>
#include <cstddef>
#include <new>

#include "../test_api.hpp"

namespace asymfence::detail {

class registry_core;

// The part of a record that the registry owns.
struct registry_node {
  registry_node* next = nullptr;            // immutable once the node is linked
  std::atomic<bool> in_use{false};          // held by a thread
  std::atomic<int> owner_process{0};        // the holder's process id; 0 while free
  registry_node* next_of_thread = nullptr;  // the holder's other records, for exit and fork
  registry_core* owner_registry = nullptr;
};

// Type-erased registry logic; thread_registry<Record> below adds the types.
// Constant-initialised, so a registry at namespace scope is usable from any
// other static initialiser.
class ASYMFENCE_TEST_API registry_core {
 public:
  struct hooks {
    registry_node* (*allocate)();           // a new record, value-initialised
    void (*on_owner_exit)(registry_node*);  // the holder is exiting (may be null)
    void (*reset)(registry_node*);          // clear reader-visible state of a dead holder
  };
  explicit constexpr registry_core(hooks h) noexcept : hooks_(h) {}

  // A record for the calling thread, released at its exit. Allocates only
  // when every record is held (std::bad_alloc may escape).
  registry_node* acquire();
  // Repairs the list after a fork without atfork handlers (see the top).
  // Called by scanners before they look at the records.
  void repair_if_forked() noexcept;

  template <class F>
  void for_each_in_use(F&& visit) {
    repair_if_forked();
    for (registry_node* n = head_.load(std::memory_order_acquire); n != nullptr; n = n->next) {
      if (n->in_use.load(std::memory_order_acquire)) visit(n);
    }
  }
  // Every record ever allocated, held or not (for tests and statistics).
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

  // Internal: releases `n` (its holder is exiting or gone).
  void release(registry_node* n, bool holder_alive) noexcept;
  // Internal: the atfork child handler's work for this registry.
  void release_all_but(registry_node* keep_list) noexcept;

 private:
  void release_parent_records(registry_node* keep_list, int self) noexcept;

  hooks hooks_;
  std::atomic<registry_node*> head_{nullptr};
  std::atomic<std::size_t> size_{0};
  // Process id the records belong to; 0 before first use, -1 while a child
  // made without atfork handlers is being repaired.
  std::atomic<int> process_{0};
  std::atomic<int> index_{-1};  // place among the registries (fork handler, fork marks)
};

// The typed face: Record derives from registry_node and provides
//   static void on_owner_exit(Record&) noexcept;  // runs on the exiting holder:
//       hand over per-thread state, forget the thread-local pointer to it
//   static void reset(Record&) noexcept;          // the holder is gone (fork):
//       clear what scanners read
template <class Record>
class thread_registry {
 public:
  constexpr thread_registry() noexcept
      : core_(registry_core::hooks{&allocate, &exit_hook, &reset_hook}) {}

  Record* acquire() { return static_cast<Record*>(core_.acquire()); }

  template <class F>
  void for_each_in_use(F&& visit) {
    core_.for_each_in_use([&](registry_node* n) { visit(*static_cast<Record*>(n)); });
  }
  std::size_t size() const noexcept { return core_.size(); }

 private:
  static registry_node* allocate() { return new Record(); }
  static void exit_hook(registry_node* n) { Record::on_owner_exit(*static_cast<Record*>(n)); }
  static void reset_hook(registry_node* n) { Record::reset(*static_cast<Record*>(n)); }

  registry_core core_;
};

}  // namespace asymfence::detail

#endif
