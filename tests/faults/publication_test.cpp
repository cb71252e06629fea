// SPDX-License-Identifier: Apache-2.0 OR MIT
// The mprotect trick's page must be published as one fully built object: a
// child forked at any instruction of its set-up (by another thread, during
// selection or a runtime switch) sees either no page, and sets one up, or a
// complete one; never an address whose size is still 0, for which mprotect
// succeeds and interrupts no CPU (measured: 1,000 such calls, 0 TLB IPIs).
//
// The set-up is single-stepped and a child is forked after every
// instruction (tests/support/instruction_stepper.hpp). Each child sets the
// page up as selection or a switch would, issues one barrier, and records
// whether it had to map a page, the page its barrier used and the lengths
// mprotect was given. The control: some children must find no page yet (and
// map their own) and some the parent's, or the stepping missed the
// publication.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "instruction_stepper.hpp"
#include "mechanism.hpp"
#include "os_seam.hpp"

namespace asymfence::test {
namespace {

// What one child's barrier did.
struct child_record {
  std::uintptr_t page = 0;   // the address mprotect was given
  std::size_t shortest = 0;  // the shortest length it was given
  int calls = 0;             // mprotect calls
  int error = 0;             // issue()'s result; -1: prepare() failed
  bool mapped_own = false;   // prepare() mapped a page (none was published)
};
constexpr long max_children = 100000;
child_record* records = nullptr;  // shared with the children

child_record seen;  // this process's mprotect calls since the last reset

// The pages of this process's address space (/proc/self/statm).
long mapped_pages() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = -1;
  if (f != nullptr) {
    if (std::fscanf(f, "%ld", &pages) != 1) pages = -1;
    std::fclose(f);
  }
  return pages;
}

int recording_mprotect(void* addr, std::size_t len, int prot) noexcept {
  if (seen.calls == 0 || len < seen.shortest) seen.shortest = len;
  seen.page = reinterpret_cast<std::uintptr_t>(addr);
  ++seen.calls;
  return detail::real_os().mprotect(addr, len, prot);
}

const detail::mechanism* trick() { return detail::find_mechanism(strategy::mprotect); }

// One barrier through the trick as a child would make it: set up (as
// selection or a runtime switch does), then issue.
child_record barrier_through_trick() {
  seen = child_record{};
  detail::os.mprotect = recording_mprotect;
  detail::reason_buffer reason;
  child_record r;
  const long before = mapped_pages();
  const bool prepared = trick()->prepare(reason);
  r.mapped_own = mapped_pages() > before;
  r.error = prepared ? trick()->issue() : -1;
  r.page = seen.page;
  r.shortest = seen.shortest;
  r.calls = seen.calls;
  return r;
}

void set_up_page() {
  detail::reason_buffer reason;
  trick()->prepare(reason);
}

bool every_step(long step) { return step <= max_children; }

void record_child(long step) {
  records[step - 1] = barrier_through_trick();
  _exit(0);
}

TEST(Publication, NoChildSeesAHalfPublishedShootdownPage) {
#if !(defined(__x86_64__) && defined(__linux__))
  GTEST_SKIP() << "single-stepping needs x86-64 Linux";
#elif ASYMFENCE_TSAN
  GTEST_SKIP() << "ThreadSanitizer intercepts fork() and signals: forking from the trap "
                  "handler inside instrumented code could deadlock on its own locks";
#else
  records = records_shared_with_children<child_record>(max_children);
  ASSERT_NE(records, nullptr);
  // Bind the calls that the set-up makes, so that the dynamic linker is not
  // stepped through.
  void* scratch = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(scratch, MAP_FAILED);
  (void)sysconf(_SC_PAGESIZE);
  if (mlock(scratch, 4096) == 0) munlock(scratch, 4096);
  munmap(scratch, 4096);

  const stepping_result stepped = fork_at_steps({set_up_page, every_step, record_child, false});
  ASSERT_TRUE(stepped.supported);
  const child_record parent = barrier_through_trick();
  ASSERT_EQ(parent.error, 0);
  ASSERT_GT(parent.shortest, 0u);

  long own = 0, inherited = 0, half = 0, failed = 0;
  for (long i = 0; i < stepped.children; ++i) {
    const child_record& r = records[i];
    if (r.error != 0 || r.calls != 2) {
      ++failed;
    } else if (r.shortest == 0) {
      ++half;
    } else if (r.mapped_own) {
      ++own;
    } else if (r.page == parent.page) {
      ++inherited;
    } else {
      ++failed;  // neither its own page nor the parent's
    }
  }
  std::printf(
      "%ld instructions stepped, %ld children: %ld set up their own page, %ld used the "
      "parent's, %ld called mprotect with length 0, %ld failed (%ld forks failed)\n",
      stepped.steps, stepped.children, own, inherited, half, failed, stepped.failed_forks);
  EXPECT_EQ(half, 0) << "a child saw the page's address before its size";
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(stepped.failed_forks, 0);
  EXPECT_GT(own, 0) << "the control: no child was forked before the publication";
  EXPECT_GT(inherited, 0) << "the control: no child was forked after the publication";
#endif
}

}  // namespace
}  // namespace asymfence::test
