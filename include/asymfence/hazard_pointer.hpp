// SPDX-License-Identifier: Apache-2.0 OR MIT
// Hazard pointers with the C++26 interface ([saferecl.hp], P2530), for C++17
// and later, whose protect issues no fence: the reader publishes with a plain
// store and light(); the reclaimer pays one heavy() per scan.
//
// Where ours differ from or extend the standard:
// - Batches (P3428, proposed for C++29): make_hazard_pointer_batch() and
//   clear_hazard_pointer_batch(), over a pointer and a count in C++17 and
//   over a std::span as well in C++20.
// - hazard_pointer_clean_up() (the idea of P3427, our name until the standard
//   settles) reclaims synchronously; see its comment.
// - Deleters run on whichever thread scans: a retiring thread, a thread that
//   calls hazard_pointer_clean_up(), never a background thread. Objects still
//   retired when the process exits are not reclaimed (the standard leaves this
//   unspecified too).
// - hazard-protectable is checked as "T derives from some
//   hazard_pointer_obj_base<T, D>" (ambiguity and virtual bases are not
//   diagnosed).
// - Copying an object whose base is hazard_pointer_obj_base copies the
//   deleter only, never the retirement state.
//
// Memory ordering (labels name the pairs; the scan is in
// src/primitives/hazard_pointer.cpp):
//   reader:    slot = p (release); light() [A]; q = src.load(acquire); use p if q == p
//   reclaimer: unlink p from src; retire(p) ... scan: take retired lists;
//              heavy() [B]; read every slot (acquire); free what no slot holds
// A pairs with B (store buffering): either the reclaimer's slot read sees
// p, or the reader's reload sees that p was unlinked and gives up. Ending a
// protection is a release store, read with acquire by the scan, so the
// reader's accesses to p happen before its deleter runs.
#ifndef ASYMFENCE_HAZARD_POINTER_HPP
#define ASYMFENCE_HAZARD_POINTER_HPP

#include <asymfence/export.h>

#include <asymfence/asymfence.hpp>
#include <atomic>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

#if __cplusplus >= 202002L && __has_include(<span>)
#include <span>
#endif

namespace asymfence {

class hazard_pointer;

namespace detail {

// The part of every hazard-protectable object that retire() uses: an
// intrusive link, so retiring allocates nothing, and a type-erased reclaim.
class hazard_pointer_link {
 protected:
  hazard_pointer_link() noexcept = default;
  hazard_pointer_link(const hazard_pointer_link&) noexcept {}
  hazard_pointer_link& operator=(const hazard_pointer_link&) noexcept { return *this; }
  ~hazard_pointer_link() = default;

 public:
  hazard_pointer_link* next_retired = nullptr;
  const void* address = nullptr;                    // the object as protect() publishes it
  void (*reclaim)(hazard_pointer_link*) = nullptr;  // runs the deleter
};

// One hazard slot: a cache line written only by its current owner.
struct alignas(64) hazard_slot {
  std::atomic<const void*> protected_ptr{nullptr};
  std::atomic<bool> in_use{false};
  hazard_slot* next = nullptr;  // all slots ever made; immutable once linked
};

// Release so that the reader's accesses to the object it stops protecting
// happen before the reclaimer's acquire read of the slot; seq_cst under TSan,
// which does not model the light()/heavy() pair (nor fences).
#if ASYMFENCE_TSAN
inline constexpr std::memory_order slot_store_order = std::memory_order_seq_cst;
inline constexpr std::memory_order source_load_order = std::memory_order_seq_cst;
#else
inline constexpr std::memory_order slot_store_order = std::memory_order_release;
inline constexpr std::memory_order source_load_order = std::memory_order_acquire;
#endif

ASYMFENCE_API hazard_slot* acquire_hazard_slot();
ASYMFENCE_API void release_hazard_slot(hazard_slot* slot) noexcept;
ASYMFENCE_API void retire_object(hazard_pointer_link* object) noexcept;

template <class T>
struct is_hazard_protectable : std::is_base_of<hazard_pointer_link, T> {};

}  // namespace detail

// Base of a hazard-protectable T: carries the retirement link and the deleter.
template <class T, class D = std::default_delete<T>>
class hazard_pointer_obj_base : public detail::hazard_pointer_link {
 public:
  // Retires the object: its deleter, called with the T*, runs once no hazard
  // pointer protects it (on some thread that scans). Preconditions: *this is
  // the base of a T that is not retired yet and is no longer reachable for
  // new protections. Allocates nothing.
  void retire(D d = D()) noexcept {
    static_assert(std::is_base_of<hazard_pointer_obj_base, T>::value,
                  "T must derive from hazard_pointer_obj_base<T, D>");
    deleter_ = std::move(d);
    address = static_cast<const void*>(static_cast<const T*>(this));
    reclaim = &reclaim_object;
    detail::retire_object(this);
  }

 protected:
  hazard_pointer_obj_base() = default;
  hazard_pointer_obj_base(const hazard_pointer_obj_base&) = default;
  hazard_pointer_obj_base(hazard_pointer_obj_base&&) = default;
  hazard_pointer_obj_base& operator=(const hazard_pointer_obj_base&) = default;
  hazard_pointer_obj_base& operator=(hazard_pointer_obj_base&&) = default;
  ~hazard_pointer_obj_base() = default;

 private:
  static void reclaim_object(detail::hazard_pointer_link* link) noexcept {
    auto* base = static_cast<hazard_pointer_obj_base*>(link);
    D d = std::move(base->deleter_);  // the deleter lives in the object it deletes
    d(static_cast<T*>(base));
  }

  D deleter_{};
};

// Owns one hazard pointer (a slot) or nothing.
class hazard_pointer {
 public:
  // Empty.
  hazard_pointer() noexcept = default;
  hazard_pointer(hazard_pointer&& other) noexcept : slot_(std::exchange(other.slot_, nullptr)) {}
  hazard_pointer& operator=(hazard_pointer&& other) noexcept {
    if (this != &other) {
      if (slot_ != nullptr) detail::release_hazard_slot(slot_);
      slot_ = std::exchange(other.slot_, nullptr);
    }
    return *this;
  }
  // Ends the protection, if any, and gives the slot back.
  ~hazard_pointer() {
    if (slot_ != nullptr) detail::release_hazard_slot(slot_);
  }

  [[nodiscard]] bool empty() const noexcept { return slot_ == nullptr; }

  // Protects and returns the value of src, retrying until it stays put.
  // Precondition: not empty.
  template <class T>
  T* protect(const std::atomic<T*>& src) noexcept {
    static_assert(detail::is_hazard_protectable<T>::value,
                  "T must derive from hazard_pointer_obj_base<T, D>");
    // try_protect in a loop, without the null store between attempts (the
    // previous value stays protected a moment longer, which is harmless).
    detail::hazard_slot* const slot = slot_;
    T* ptr = src.load(std::memory_order_relaxed);
    for (;;) {
      slot->protected_ptr.store(ptr, detail::slot_store_order);
      light();  // A: pairs with B in hazard_pointer.cpp (scan)
      T* const now = src.load(detail::source_load_order);
      if (now == ptr) return ptr;
      ptr = now;
    }
  }

  // Publishes ptr, then reloads src into ptr: true (ptr protected) if it was
  // unchanged, false (nothing protected) otherwise. Never fails spuriously.
  // Precondition: not empty.
  template <class T>
  bool try_protect(T*& ptr, const std::atomic<T*>& src) noexcept {
    static_assert(detail::is_hazard_protectable<T>::value,
                  "T must derive from hazard_pointer_obj_base<T, D>");
    detail::hazard_slot* const slot = slot_;
    T* const old = ptr;
    slot->protected_ptr.store(old, detail::slot_store_order);
    light();  // A: pairs with B in hazard_pointer.cpp (scan)
    ptr = src.load(detail::source_load_order);
    if (ptr == old) return true;
    slot->protected_ptr.store(nullptr, detail::slot_store_order);
    return false;
  }

  // Associates the hazard pointer with *ptr (null: ends protection). As in
  // the standard, this protects *ptr only from a retire() that the call
  // happens before; try_protect() is the way to protect what another thread
  // may retire at any time. Precondition: not empty.
  template <class T>
  void reset_protection(const T* ptr) noexcept {
    static_assert(detail::is_hazard_protectable<T>::value,
                  "T must derive from hazard_pointer_obj_base<T, D>");
    slot_->protected_ptr.store(static_cast<const void*>(ptr), detail::slot_store_order);
  }
  // Ends protection. Precondition: not empty.
  void reset_protection(std::nullptr_t = nullptr) noexcept {
    slot_->protected_ptr.store(nullptr, detail::slot_store_order);
  }

  void swap(hazard_pointer& other) noexcept { std::swap(slot_, other.slot_); }

 private:
  friend hazard_pointer make_hazard_pointer();
  friend void make_hazard_pointer_batch(hazard_pointer*, std::size_t);
  explicit hazard_pointer(detail::hazard_slot* slot) noexcept : slot_(slot) {}

  detail::hazard_slot* slot_ = nullptr;
};

// A non-empty hazard pointer. Throws std::bad_alloc when a slot is needed
// and cannot be allocated (slots are reused: a thread's cache, then a free one).
inline hazard_pointer make_hazard_pointer() {
  return hazard_pointer(detail::acquire_hazard_slot());
}

inline void swap(hazard_pointer& a, hazard_pointer& b) noexcept { a.swap(b); }

// Makes every one of first[0..count) non-empty (what was owned before is
// released). Strong guarantee: on std::bad_alloc none of them changes.
inline void make_hazard_pointer_batch(hazard_pointer* first, std::size_t count) {
  std::size_t made = 0;
  struct undo {
    detail::hazard_slot** slots;
    std::size_t* made;
    ~undo() {
      while (*made > 0) detail::release_hazard_slot(slots[--*made]);
    }
  };
  constexpr std::size_t chunk = 16;
  // Acquired slots are kept aside until all exist, so a failure changes nothing.
  std::unique_ptr<detail::hazard_slot*[]> heap;
  detail::hazard_slot* local[chunk];
  detail::hazard_slot** slots = local;
  if (count > chunk) {
    heap.reset(new detail::hazard_slot*[count]);
    slots = heap.get();
  }
  {
    undo guard{slots, &made};
    for (; made < count; ++made) slots[made] = detail::acquire_hazard_slot();
    for (std::size_t i = 0; i < count; ++i) first[i] = hazard_pointer(slots[i]);
    made = 0;
  }
}

// Makes every one of first[0..count) empty, ending their protections.
inline void clear_hazard_pointer_batch(hazard_pointer* first, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) first[i] = hazard_pointer();
}

#if __cplusplus >= 202002L && __has_include(<span>)
inline void make_hazard_pointer_batch(std::span<hazard_pointer> hps) {
  make_hazard_pointer_batch(hps.data(), hps.size());
}
inline void clear_hazard_pointer_batch(std::span<hazard_pointer> hps) noexcept {
  clear_hazard_pointer_batch(hps.data(), hps.size());
}
#endif

// Reclaims, before it returns, every object retired before the call (by any
// thread, including threads that have exited) that no hazard pointer
// protected at some moment during the call; objects protected then stay
// retired. Runs their deleters on the calling thread. Waits for reclamation
// passes that other threads have in progress (their deleters included);
// concurrent calls take turns. Called from a deleter it waits for no pass
// (the one running the deleter cannot finish first), so objects that passes
// in progress hold may still be retired when it returns.
ASYMFENCE_API void hazard_pointer_clean_up() noexcept;

}  // namespace asymfence

#endif
