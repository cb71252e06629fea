// SPDX-License-Identifier: Apache-2.0 OR MIT
// The hazard pointer handshake under relacy: protect (as try_protect in
// include/asymfence/hazard_pointer.hpp does it) against a scan (as in
// src/primitives/hazard_pointer.cpp), with light() and heavy() as relacy
// fences.
//
//     reader:    slot = x (release); light(); r = src (acquire);
//                if r == x: read x's data; slot = null (release)
//     reclaimer: src = y; heavy(); h = slot (acquire); if h != x: write x's data (the deleter)
//
// The deleter's write is a plain access: relacy reports a data race if it can
// run while the reader reads. The controls drop one barrier, or end the
// protection with a relaxed store, and relacy must report that race.
#include <relacy/relacy.hpp>
// After relacy, which it needs.
#include <asymfence/relacy.hpp>

#include "model_check.hpp"

namespace {

enum class variant { sound, no_light, no_heavy, relaxed_reset };

template <variant v>
struct protect_against_scan : rl::test_suite<protect_against_scan<v>, 2> {
  struct node {
    rl::var<int> data;
  };
  node x, y;
  rl::atomic<node*> src;
  rl::atomic<node*> slot;

  void before() {
    x.data($) = 1;
    y.data($) = 2;
    src.store(&x, rl::memory_order_release);
    slot.store(nullptr, rl::memory_order_relaxed);
  }

  void thread(unsigned index) {
    if (index == 0) {
      node* p = src.load(rl::memory_order_relaxed);
      for (;;) {  // protect
        slot.store(p, rl::memory_order_release);
        if (v != variant::no_light) asymfence::light();  // A: pairs with B
        node* now = src.load(rl::memory_order_acquire);
        if (now == p) break;
        p = now;
      }
      int seen = p->data($);
      (void)seen;
      if (v == variant::relaxed_reset) {
        slot.store(nullptr, rl::memory_order_relaxed);
      } else {
        slot.store(nullptr, rl::memory_order_release);  // ends the protection
      }
    } else {
      src.store(&y, rl::memory_order_release);                       // unlink x, then retire it
      if (v != variant::no_heavy) asymfence::heavy();                // B: pairs with A
      if (slot.load(rl::memory_order_acquire) != &x) x.data($) = 0;  // x's deleter
    }
  }
};

constexpr rl::test_result_e holds = rl::test_result_success;
constexpr rl::test_result_e race = rl::test_result_data_race;

using asymfence::model_check::make_case;
const asymfence::model_check::model_case cases[] = {
    make_case<protect_against_scan<variant::sound>>("protect_against_scan", holds),
    make_case<protect_against_scan<variant::no_light>>("control_protect_without_light", race),
    make_case<protect_against_scan<variant::no_heavy>>("control_scan_without_heavy", race),
    make_case<protect_against_scan<variant::relaxed_reset>>("control_relaxed_reset", race),
};

}  // namespace

int main(int argc, char** argv) {
  using namespace asymfence::model_check;
  return run_model_case(argc, argv, cases, {full_search(), random_search(100000)});
}
