// SPDX-License-Identifier: Apache-2.0 OR MIT
// In the checked-light build, light() stops fencing (light_must_fence is
// cleared) once selection has chosen an asymmetric mechanism. A child forked
// while selection runs repeats it (a thread of the child takes the copied
// selection over), and its own selection may
// end at `fence`, where light() must fence: so no child may see the flag
// cleared while the strategy is not yet published, or its light() would stay
// a compiler barrier against a fence (the flag is never set again).
//
// Selection is single-stepped and a child is forked after every instruction at which the flag is
// clear, and, as the control, every 64th instruction. Each child makes its own
// selection end at `fence` (membarrier missing, a CPU with INVLPGB, through
// the seam) and reports the strategy it then uses and the flag. The control
// must show children that selected `fence` again, with the flag set.
#include <gtest/gtest.h>
#include <unistd.h>

#include <asymfence/asymfence.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "instruction_stepper.hpp"
#include "os_seam.hpp"
#include "testing.hpp"

namespace {

using asymfence::strategy;

struct child_record {
  int strategy = -1;              // the strategy the child's heavy() uses
  int light_fences = -1;          // light_must_fence in the child, after its selection
  int flag_at_fork = -1;          // light_must_fence when it was forked
  bool during_selection = false;  // forked after the flag was set again for this selection
};
constexpr long max_children = 50000;
child_record* records = nullptr;  // shared with the children
long children_made = 0;
bool flag_set_again = false;  // the stepped selection has set the flag (unselect)

long no_membarrier(int, unsigned, int) noexcept {
  errno = ENOSYS;
  return -1;
}

bool cpu_with_invlpgb(std::uint32_t leaf, std::uint32_t subleaf, std::uint32_t regs[4]) noexcept {
  const bool ok = asymfence::detail::real_os().cpuid(leaf, subleaf, regs);
  if (leaf == 0x80000008) regs[1] |= 1u << 3;
  return ok;
}

void reselect() { asymfence::detail::reselect_for_testing(); }

bool flag_clear_or_control(long step) {
  const bool flag = asymfence::detail::light_must_fence.load();
  if (flag) flag_set_again = true;
  if (children_made >= max_children || (flag && step % 64 != 0)) return false;
  records[children_made].flag_at_fork = flag ? 1 : 0;
  records[children_made].during_selection = flag_set_again;
  ++children_made;
  return true;
}

// The child runs in the trap handler, on the thread whose selection it
// interrupted: a call from there stops the process by design (a handler may
// not wait for its own thread's selection). Another thread asks instead, as
// in a child whose selecting thread was not the one that forked: it takes
// the copied selection over.
void report_child(long) {
  child_record& r = records[children_made - 1];
  asymfence::detail::os.membarrier = no_membarrier;
  asymfence::detail::os.cpuid = cpu_with_invlpgb;
  std::thread asker([&r] {
    r.strategy = static_cast<int>(asymfence::active_strategy());
    r.light_fences = asymfence::detail::light_must_fence.load() ? 1 : 0;
  });
  asker.join();
  _exit(0);
}

TEST(CheckedSelectionOrder, NoForkedChildSeesLightUnfencedWithAFenceSelection) {
#if !ASYMFENCE_CHECKED_LIGHT
  GTEST_SKIP() << "needs the checked-light library";
#elif !(defined(__x86_64__) && defined(__linux__))
  GTEST_SKIP() << "single-stepping needs x86-64 Linux";
#elif ASYMFENCE_TSAN
  GTEST_SKIP() << "ThreadSanitizer intercepts fork() and signals: forking from the trap "
                  "handler inside instrumented code could deadlock on its own locks";
#else
  records = asymfence::test::records_shared_with_children<child_record>(max_children);
  ASSERT_NE(records, nullptr);
  reselect();  // binds every call that selection makes before it is stepped
  ASSERT_NE(asymfence::active_strategy(), strategy::fence) << "this test needs membarrier";

  const asymfence::test::stepping_result stepped =
      asymfence::test::fork_at_steps({reselect, flag_clear_or_control, report_child, true});
  ASSERT_TRUE(stepped.supported);
  const int fence = static_cast<int>(strategy::fence);
  long unfenced_against_fence = 0, reselected_to_fence = 0, kept_parents = 0, forked_clear = 0;
  for (long i = 0; i < stepped.children; ++i) {
    const child_record& r = records[i];
    if (r.flag_at_fork == 0 && r.during_selection) ++forked_clear;
    if (r.strategy == fence && r.light_fences == 0) {
      ++unfenced_against_fence;
    } else if (r.strategy == fence) {
      ++reselected_to_fence;
    } else if (r.strategy > 0) {
      ++kept_parents;
    }
  }
  std::printf(
      "%ld instructions stepped, %ld children (%ld forked with the flag clear): %ld selected "
      "fence with light() fencing, %ld kept the parent's strategy, %ld selected fence with "
      "light() a compiler barrier\n",
      stepped.steps, stepped.children, forked_clear, reselected_to_fence, kept_parents,
      unfenced_against_fence);
  EXPECT_EQ(unfenced_against_fence, 0)
      << "a child forked during selection saw light() unfenced and then selected fence";
  EXPECT_EQ(stepped.failed_forks, 0);
  EXPECT_GT(forked_clear, 0) << "the control: no child was forked after the flag was cleared";
  EXPECT_GT(reselected_to_fence, 0)
      << "the control: no child repeated its selection and ended at fence";
#endif
}

}  // namespace
