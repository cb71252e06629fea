// SPDX-License-Identifier: Apache-2.0 OR MIT
// Compiled at -O2 for the RCU code-generation test: what a read section
// costs a caller.
#include <asymfence/rcu.hpp>
#include <atomic>

extern "C" void asymfence_codegen_rcu_lock() { asymfence::rcu_default_domain().lock(); }
extern "C" void asymfence_codegen_rcu_unlock() { asymfence::rcu_default_domain().unlock(); }

// The control: an unlock written with a read-modify-write, which the checker
// must flag.
extern "C" void asymfence_codegen_rcu_rmw_unlock() {
  asymfence::detail::rcu_this_reader->counter.fetch_add(1, std::memory_order_seq_cst);
}
