// SPDX-License-Identifier: Apache-2.0 OR MIT
// Shared sections compiled as users compile them (-O2), for
// read_mostly_mutex_codegen_test.cpp to disassemble. C linkage keeps the
// names plain.
#include <asymfence/read_mostly_mutex.hpp>
#include <atomic>
#include <shared_mutex>

extern "C" long read_mostly_shared_section(asymfence::read_mostly_mutex& m, const long& data) {
  m.lock_shared();
  const long v = data;
  m.unlock_shared();
  return v;
}

// The control: std::shared_mutex's readers take a read-modify-write.
extern "C" long std_shared_section(std::shared_mutex& m, const long& data) {
  m.lock_shared();
  const long v = data;
  m.unlock_shared();
  return v;
}

// The control for the instruction check: a reader count taken with a
// read-modify-write inline, as a simple reader-writer lock does.
extern "C" long counted_shared_section(std::atomic<long>& readers, const long& data) {
  readers.fetch_add(1, std::memory_order_acquire);
  const long v = data;
  readers.fetch_sub(1, std::memory_order_release);
  return v;
}
