// SPDX-License-Identifier: Apache-2.0 OR MIT
// Hazard pointers: slots, retirement and the scan.
//
// Slots. Each hazard pointer owns a slot, a cache line of its own in a list
// that only grows (a scanner may hold any slot at any time). A free slot is
// taken with a compare-exchange on its in_use flag; each thread keeps a few
// released slots in its record so that make_hazard_pointer() usually touches
// nothing shared. Protecting writes only the owner's slot (see the header).
//
// Retirement. retire() pushes the object on its thread's list in the
// thread's record (the link is in the object; a compare-exchange on the
// thread's own cache line, which the owner's scans and hazard_pointer_clean_up
// also take from). Past a threshold (max(1000, 2 x slots), so that at least
// half of a batch is reclaimable) or a time bound, the thread starts a batch:
// it takes its list and the objects of exited threads, calls start_heavy(),
// and leaves the batch in its record until heavy_completed() says the barrier
// is done (polled on later retires), so a retiring thread never waits behind
// another's barrier. Then it reads every slot (B: pairs with A in the
// header's try_protect), frees what no slot holds and puts the rest back.
// Deleters run after the internal bookkeeping, outside any lock; one that
// retires only pushes (the thread does not start a second scan inside one).
//
// Clean-up. hazard_pointer_clean_up() takes every record's lists (waiting
// and retrying for batches that an owner holds at that moment: the record's
// scan_seq is odd then, or changed during the walk; likewise when a pass
// took objects off another list meanwhile: foreign_takes), then the objects
// of exited threads, issues heavy() and reclaims. Taking the exited threads'
// objects last matters: a thread hands its objects over before its record
// reads as free, so a record the walk skipped has already handed them over.
// Clean-ups take turns, since what one takes from other records is invisible
// to their scan_seq. One called from a deleter (nested) takes no turn and
// waits for nothing (it may be what the others wait for): one round only.
//
// Thread exit and fork (see the registry): an exiting thread hands its lists
// to the shared orphan list (scan_seq odd meanwhile) and frees its cached
// slots; in a child, the records of the parent's other threads are handled
// the same way, and a clean-up turn held by one of them is taken over. Slots that
// live hazard_pointer objects of those threads owned stay taken in the child,
// with their protections: conservative, never unsafe.
#include <algorithm>
#include <asymfence/hazard_pointer.hpp>
#include <chrono>
#include <new>
#include <thread>
#include <vector>

#include "hazard_pointer_testing.hpp"
#include "thread_registry.hpp"

#if defined(__unix__)
#include <unistd.h>
#endif

namespace asymfence::detail {
namespace {

constexpr std::size_t cached_slots = 8;
constexpr std::size_t minimum_threshold = 1000;
constexpr std::size_t time_check_interval = 64;  // retires between clock reads
constexpr std::chrono::milliseconds time_bound{100};

std::atomic<hazard_slot*> all_slots{nullptr};
std::atomic<std::size_t> slot_count{0};
std::atomic<hazard_pointer_link*> orphans{nullptr};  // objects whose thread exited
// Passes that took objects off lists other than their own record's without
// the clean-up turn: owner batches that took orphans, nested clean-ups.
std::atomic<unsigned> foreign_takes{0};
// The process whose thread holds the clean-up turn; 0 when free.
std::atomic<int> clean_up_holder{0};
thread_local bool in_clean_up = false;  // this thread runs a top-level clean-up
std::atomic<void (*)()> scan_barrier_override{nullptr};

struct alignas(64) hazard_record : registry_node {
  // Taken by the owner's scans and by hazard_pointer_clean_up().
  alignas(64) std::atomic<hazard_pointer_link*> retired{nullptr};
  std::atomic<hazard_pointer_link*> pending{nullptr};  // a batch waiting for its barrier
  std::atomic<unsigned> scan_seq{0};  // odd while the owner holds objects off both lists
  // Owner only.
  heavy_ticket pending_ticket;
  std::size_t retired_since_scan = 0;
  std::chrono::steady_clock::time_point last_scan{};
  bool scanning = false;
  std::size_t cached = 0;
  hazard_slot* cache[cached_slots] = {};

  static void on_owner_exit(hazard_record& r) noexcept;
  static void reset(hazard_record& r) noexcept;
};

thread_registry<hazard_record> records;
thread_local hazard_record* this_thread_record = nullptr;

hazard_record& record_of_this_thread() {
  if (this_thread_record == nullptr) {
    hazard_record* r = records.acquire();
    r->last_scan = std::chrono::steady_clock::now();
    this_thread_record = r;
  }
  return *this_thread_record;
}

// Pushes the chain first..last onto `list`.
void push_chain(std::atomic<hazard_pointer_link*>& list, hazard_pointer_link* first,
                hazard_pointer_link* last) noexcept {
  hazard_pointer_link* head = list.load(std::memory_order_relaxed);
  do {
    last->next_retired = head;
  } while (!list.compare_exchange_weak(head, first, std::memory_order_release,
                                       std::memory_order_relaxed));
}

void push_list(std::atomic<hazard_pointer_link*>& list, hazard_pointer_link* first) noexcept {
  if (first == nullptr) return;
  hazard_pointer_link* last = first;
  while (last->next_retired != nullptr) last = last->next_retired;
  push_chain(list, first, last);
}

hazard_pointer_link* concatenate(hazard_pointer_link* a, hazard_pointer_link* b) noexcept {
  if (a == nullptr) return b;
  if (b == nullptr) return a;
  hazard_pointer_link* last = a;
  while (last->next_retired != nullptr) last = last->next_retired;
  last->next_retired = b;
  return a;
}

void release_cached_slots(hazard_record& r) noexcept {
  while (r.cached > 0) r.cache[--r.cached]->in_use.store(false, std::memory_order_release);
}

void hazard_record::on_owner_exit(hazard_record& r) noexcept {
  // Odd while the objects are off both lists and not yet on the orphans, so
  // that a clean-up walking this record meanwhile waits and looks again.
  r.scan_seq.fetch_add(1, std::memory_order_seq_cst);
  hazard_pointer_link* held = r.retired.exchange(nullptr, std::memory_order_seq_cst);
  held = concatenate(held, r.pending.exchange(nullptr, std::memory_order_seq_cst));
  push_list(orphans, held);
  r.scan_seq.fetch_add(1, std::memory_order_seq_cst);
  release_cached_slots(r);
  r.retired_since_scan = 0;
  this_thread_record = nullptr;
}

void hazard_record::reset(hazard_record& r) noexcept {
  // The holder vanished in a fork; a batch it held off the lists is lost to
  // this process (never freed here, which is safe).
  push_list(orphans, r.retired.exchange(nullptr, std::memory_order_acq_rel));
  push_list(orphans, r.pending.exchange(nullptr, std::memory_order_acq_rel));
  release_cached_slots(r);
  const unsigned seq = r.scan_seq.load(std::memory_order_relaxed);
  if (seq & 1u) r.scan_seq.store(seq + 1, std::memory_order_release);
  r.retired_since_scan = 0;
  r.scanning = false;
}

// Every protected address, sorted. Acquire: a protection ended before this
// read happens before the deleter runs.
std::vector<const void*> read_hazards() {
  std::vector<const void*> hazards;
  hazards.reserve(slot_count.load(std::memory_order_relaxed));
  for (hazard_slot* s = all_slots.load(std::memory_order_acquire); s != nullptr; s = s->next) {
    const void* p = s->protected_ptr.load(source_load_order);
    if (p != nullptr) hazards.push_back(p);
  }
  std::sort(hazards.begin(), hazards.end());
  return hazards;
}

// Frees what no slot holds, puts the rest back on `keep_on`; returns how
// many were kept. The barrier (B) must have completed after `list` was taken.
std::size_t reclaim(hazard_pointer_link* list,
                    std::atomic<hazard_pointer_link*>& keep_on) noexcept {
  if (list == nullptr) return 0;
  std::vector<const void*> hazards;
  try {
    hazards = read_hazards();
  } catch (const std::bad_alloc&) {
    push_list(keep_on, list);  // try again on a later scan
    return 0;
  }
  hazard_pointer_link* keep_first = nullptr;
  hazard_pointer_link* keep_last = nullptr;
  hazard_pointer_link* free_list = nullptr;
  std::size_t kept = 0;
  while (list != nullptr) {
    hazard_pointer_link* next = list->next_retired;
    if (std::binary_search(hazards.begin(), hazards.end(), list->address)) {
      list->next_retired = keep_first;
      keep_first = list;
      if (keep_last == nullptr) keep_last = list;
      ++kept;
    } else {
      list->next_retired = free_list;
      free_list = list;
    }
    list = next;
  }
  if (keep_first != nullptr) push_chain(keep_on, keep_first, keep_last);
  while (free_list != nullptr) {
    hazard_pointer_link* next = free_list->next_retired;
    free_list->reclaim(free_list);  // may retire: only pushes (scanning is set)
    free_list = next;
  }
  return kept;
}

heavy_ticket start_scan_barrier() noexcept {
  if (void (*barrier)() = scan_barrier_override.load(std::memory_order_acquire)) {
    barrier();
    return heavy_ticket{0};  // target 0: already complete
  }
  return start_heavy();  // B: pairs with A in hazard_pointer.hpp (try_protect)
}

bool scan_barrier_completed(heavy_ticket t) noexcept {
  return heavy_completed(t);  // B (completion): pairs with A
}

void scan_barrier() noexcept {
  if (void (*barrier)() = scan_barrier_override.load(std::memory_order_acquire)) {
    barrier();
  } else {
    heavy();  // B: pairs with A in hazard_pointer.hpp (try_protect)
  }
}

std::size_t threshold() noexcept {
  return std::max(minimum_threshold, 2 * slot_count.load(std::memory_order_relaxed));
}

// The owner's side: finish a batch whose barrier completed, or start one.
void advance_reclamation(hazard_record& r, bool start_new) noexcept {
  if (r.scanning) return;
  r.scanning = true;
  if (r.pending.load(std::memory_order_relaxed) == nullptr && start_new) {
    r.scan_seq.fetch_add(1, std::memory_order_seq_cst);  // odd: holding a batch
    hazard_pointer_link* batch = r.retired.exchange(nullptr, std::memory_order_seq_cst);
    if (orphans.load(std::memory_order_relaxed) != nullptr) {
      foreign_takes.fetch_add(1, std::memory_order_seq_cst);  // tells clean-up to look again
      batch = concatenate(batch, orphans.exchange(nullptr, std::memory_order_seq_cst));
    }
    r.retired_since_scan = 0;
    r.last_scan = std::chrono::steady_clock::now();
    if (batch != nullptr) {
      r.pending_ticket = start_scan_barrier();
      r.pending.store(batch, std::memory_order_seq_cst);
    }
    r.scan_seq.fetch_add(1, std::memory_order_seq_cst);
  }
  if (r.pending.load(std::memory_order_relaxed) != nullptr &&
      scan_barrier_completed(r.pending_ticket)) {
    r.scan_seq.fetch_add(1, std::memory_order_seq_cst);
    hazard_pointer_link* batch = r.pending.exchange(nullptr, std::memory_order_seq_cst);
    r.retired_since_scan += reclaim(batch, r.retired);
    r.scan_seq.fetch_add(1, std::memory_order_seq_cst);
  }
  r.scanning = false;
}

int current_process_id() noexcept {
#if defined(__unix__)
  return static_cast<int>(getpid());
#else
  return 1;  // no fork
#endif
}

// Top-level clean-ups take turns: each takes other records' lists, which the
// records' scan_seq cannot show to a concurrent one (and two that waited for
// each other's batches would wait forever). A turn held in another process
// was held by a thread that vanished in a fork: the child takes it over (the
// objects that thread held are lost to the child, never freed, which is safe).
void take_clean_up_turn() noexcept {
  const int self = current_process_id();
  for (;;) {
    int holder = 0;
    if (clean_up_holder.compare_exchange_weak(holder, self, std::memory_order_acquire,
                                              std::memory_order_relaxed)) {
      return;
    }
    if (holder != 0 && holder != self &&
        clean_up_holder.compare_exchange_strong(holder, self, std::memory_order_acquire,
                                                std::memory_order_relaxed)) {
      return;
    }
    std::this_thread::yield();
  }
}

void end_clean_up_turn() noexcept { clean_up_holder.store(0, std::memory_order_release); }

}  // namespace

hazard_slot* acquire_hazard_slot() {
  hazard_record& r = record_of_this_thread();
  if (r.cached > 0) return r.cache[--r.cached];
  for (hazard_slot* s = all_slots.load(std::memory_order_acquire); s != nullptr; s = s->next) {
    bool free = false;
    if (!s->in_use.load(std::memory_order_relaxed) &&
        s->in_use.compare_exchange_strong(free, true, std::memory_order_acquire)) {
      return s;
    }
  }
  auto* s = new hazard_slot();
  s->in_use.store(true, std::memory_order_relaxed);
  hazard_slot* head = all_slots.load(std::memory_order_relaxed);
  do {
    s->next = head;
  } while (!all_slots.compare_exchange_weak(head, s, std::memory_order_release,
                                            std::memory_order_relaxed));
  slot_count.fetch_add(1, std::memory_order_relaxed);
  return s;
}

void release_hazard_slot(hazard_slot* slot) noexcept {
  slot->protected_ptr.store(nullptr, slot_store_order);  // ends the protection
  hazard_record* r = this_thread_record;
  if (r != nullptr && r->cached < cached_slots) {
    r->cache[r->cached++] = slot;
  } else {
    slot->in_use.store(false, std::memory_order_release);
  }
}

void retire_object(hazard_pointer_link* object) noexcept {
  hazard_record* r = this_thread_record;
  if (r == nullptr) {
    try {
      r = &record_of_this_thread();
    } catch (const std::bad_alloc&) {
      push_chain(orphans, object, object);  // reclaimed by another thread's scan
      return;
    }
  }
  push_chain(r->retired, object, object);
  const std::size_t count = ++r->retired_since_scan;
  if (count >= threshold()) {
    advance_reclamation(*r, true);
  } else if (count % time_check_interval == 0) {
    const bool due = std::chrono::steady_clock::now() - r->last_scan >= time_bound;
    advance_reclamation(*r, due);
  } else if (r->pending.load(std::memory_order_relaxed) != nullptr) {
    advance_reclamation(*r, false);
  }
}

void set_hazard_scan_barrier_for_testing(void (*barrier)()) noexcept {
  scan_barrier_override.store(barrier, std::memory_order_release);
}

std::size_t scan_for_testing(hazard_pointer_link* list) noexcept {
  std::atomic<hazard_pointer_link*> kept{nullptr};
  scan_barrier();  // B: pairs with A in hazard_pointer.hpp (try_protect)
  return reclaim(list, kept);
}

hazard_pointer_counts hazard_pointer_counts_for_testing() noexcept {
  return {slot_count.load(std::memory_order_relaxed), records.size()};
}

}  // namespace asymfence::detail

namespace asymfence {

void hazard_pointer_clean_up() noexcept {
  using namespace detail;
  hazard_record* self = nullptr;
  try {
    self = &record_of_this_thread();
  } catch (const std::bad_alloc&) {
    // Without a record the call is still complete; its deleters' retires go
    // to the orphans if they cannot get one either.
  }
  // Called from a deleter (of an owner scan or of a clean-up): it cannot wait
  // for the pass it runs in, nor for passes whose own deleters may be waiting
  // for it, so it makes one round and tells top-level clean-ups it took.
  const bool nested = in_clean_up || (self != nullptr && self->scanning);
  if (nested) {
    foreign_takes.fetch_add(1, std::memory_order_seq_cst);
  } else {
    take_clean_up_turn();
    in_clean_up = true;
    if (self != nullptr) self->scanning = true;  // a deleter that retires only pushes
  }
  struct busy_record {
    hazard_record* record;
    unsigned seq;
  };
  std::vector<busy_record> busy;
  for (;;) {
    busy.clear();
    hazard_pointer_link* batch = nullptr;
    const unsigned takes_before = foreign_takes.load(std::memory_order_seq_cst);
    records.for_each_in_use([&](hazard_record& r) {
      // Seqlock-style: if scan_seq is even and unchanged across both
      // exchanges, no owner batch started or finished in between, so every
      // object retired before this point is in what was taken.
      const unsigned before = r.scan_seq.load(std::memory_order_seq_cst);
      batch = concatenate(batch, r.retired.exchange(nullptr, std::memory_order_seq_cst));
      batch = concatenate(batch, r.pending.exchange(nullptr, std::memory_order_seq_cst));
      const unsigned after = r.scan_seq.load(std::memory_order_seq_cst);
      if (&r != self && (before != after || (after & 1u) != 0)) busy.push_back({&r, after});
    });
    batch = concatenate(batch, orphans.exchange(nullptr, std::memory_order_seq_cst));
    // A pass that took orphans, or a nested clean-up that took lists, after
    // the walk passed its source may hold objects retired before the call:
    // another round (its owner's record reads busy until it is done).
    const bool others_took = foreign_takes.load(std::memory_order_seq_cst) != takes_before;
    scan_barrier();  // B: pairs with A in hazard_pointer.hpp (try_protect)
    reclaim(batch, orphans);
    if (nested || (busy.empty() && !others_took)) break;
    // An owner holds a batch that may contain objects retired before the
    // call: wait until it is done (its deleters included), then look again.
    for (const busy_record& b : busy) {
      if ((b.seq & 1u) == 0) continue;
      while (b.record->scan_seq.load(std::memory_order_seq_cst) == b.seq) std::this_thread::yield();
    }
  }
  if (!nested) {
    if (self != nullptr) self->scanning = false;
    in_clean_up = false;
    end_clean_up_turn();
  }
}

}  // namespace asymfence
