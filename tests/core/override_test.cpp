// SPDX-License-Identifier: Apache-2.0 OR MIT
// ASYMFENCE_STRATEGY: an unknown name, a strategy unsound in this build and a
// strategy this platform lacks are all refused loudly, never replaced by
// another one; "" and "auto" mean automatic selection; heavy() under a refused
// override stops the process with the message.
#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "child_process.hpp"
#include "forced_strategy.hpp"

namespace {

using asymfence::strategy;
using ::testing::HasSubstr;

strategy automatic_choice() {
  asymfence::test::scoped_override none(nullptr);
  return none.selected();
}

TEST(Override, UnknownNameIsRefusedWithEveryValidName) {
  asymfence::test::scoped_override forced("bogus");
  EXPECT_EQ(forced.selected(), strategy::none);
  EXPECT_EQ(forced.error(), EINVAL);
  EXPECT_THAT(forced.message(), HasSubstr("bogus"));
  EXPECT_THAT(forced.message(), HasSubstr("auto"));
  for (int i = 1; i < asymfence::strategy_count; ++i) {
    EXPECT_THAT(forced.message(), HasSubstr(asymfence::to_string(static_cast<strategy>(i))));
  }
  EXPECT_EQ(asymfence::active_strategy(), strategy::none);
  asymfence::selection_report report = asymfence::selection();
  EXPECT_TRUE(report.forced);
  EXPECT_STREQ(report.forced_name, "bogus");
  EXPECT_EQ(report.error, EINVAL);
}

TEST(Override, FenceIsRefusedWhileLightIsACompilerBarrier) {
  if (asymfence::selection().light_fences) {
    GTEST_SKIP() << "light() fences in this build, so the fence strategy is sound";
  }
  asymfence::test::scoped_override forced("fence");
  EXPECT_EQ(forced.selected(), strategy::none);
  EXPECT_NE(forced.error(), 0);
  EXPECT_THAT(forced.message(), HasSubstr("fence"));
  EXPECT_THAT(forced.message(), HasSubstr("refused"));
  EXPECT_THAT(forced.message(), HasSubstr("compiler barrier"));
  EXPECT_EQ(asymfence::active_strategy(), strategy::none);
}

TEST(Override, FlushProcessWriteBuffersIsRefusedOffWindows) {
#if defined(_WIN32)
  GTEST_SKIP() << "FlushProcessWriteBuffers exists on Windows";
#endif
  asymfence::test::scoped_override forced("flush_process_write_buffers");
  EXPECT_EQ(forced.selected(), strategy::none);
  EXPECT_NE(forced.error(), 0);
  EXPECT_THAT(forced.message(), HasSubstr("refused"));
  EXPECT_THAT(forced.message(), HasSubstr("Windows"));
  EXPECT_EQ(asymfence::active_strategy(), strategy::none);
}

TEST(Override, EmptyAndAutoSelectAutomatically) {
  const strategy automatic = automatic_choice();
  ASSERT_NE(automatic, strategy::none);
  for (const char* value : {"", "auto"}) {
    SCOPED_TRACE(std::string("ASYMFENCE_STRATEGY='") + value + "'");
    asymfence::test::scoped_override forced(value);
    EXPECT_EQ(forced.selected(), automatic) << forced.message();
    EXPECT_EQ(forced.error(), 0);
    EXPECT_FALSE(asymfence::selection().forced);
  }
}

TEST(Override, UsableStrategyIsHonoured) {
  for (const asymfence::candidate_report& c : asymfence::selection().candidates) {
    if (!c.usable) continue;
    SCOPED_TRACE(asymfence::to_string(c.id));
    asymfence::test::scoped_override forced(asymfence::to_string(c.id));
    EXPECT_EQ(forced.selected(), c.id) << forced.message();
    EXPECT_EQ(asymfence::active_strategy(), c.id);
    EXPECT_TRUE(asymfence::selection().forced);
  }
}

// Selection under a refused override reports; heavy() must then stop.
void expect_heavy_stops_under(const char* value, const char* expected_text) {
  asymfence::test::child_result r = asymfence::test::run_in_child([value] {
    asymfence::test::reselect_with_override(value);
    asymfence::heavy();
    return 0;  // not reached when heavy() stops as it must
  });
  EXPECT_TRUE(r.signaled && r.signal == SIGABRT)
      << "exited: " << r.exited << " code " << r.code << "; output: " << r.output;
  EXPECT_THAT(r.output, HasSubstr("no sound strategy exists"));
  EXPECT_THAT(r.output, HasSubstr(expected_text));
}

TEST(Override, HeavyStopsTheProcessUnderAnUnknownName) {
  expect_heavy_stops_under("bogus", "valid names: auto, membarrier_private_expedited");
}

TEST(Override, HeavyStopsTheProcessUnderAStrategyThisPlatformLacks) {
#if defined(_WIN32)
  GTEST_SKIP() << "FlushProcessWriteBuffers exists on Windows";
#endif
  expect_heavy_stops_under("flush_process_write_buffers", "needs Windows");
}

TEST(Override, HeavyStopsTheProcessUnderAnUnsoundFence) {
  if (asymfence::selection().light_fences) {
    GTEST_SKIP() << "light() fences in this build, so the fence strategy is sound";
  }
  expect_heavy_stops_under("fence", "compiler barrier");
}

}  // namespace
