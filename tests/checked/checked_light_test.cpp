// SPDX-License-Identifier: Apache-2.0 OR MIT
// The fence strategy and the checked-light build (ASYMFENCE_CHECKED_LIGHT=ON).
//
// In the checked build light() tests one flag, detail::light_must_fence: it
// stays a compiler barrier while heavy() has an asymmetric mechanism, and
// fences once the strategy is `fence`. So selection must still prefer
// membarrier, and a forced `fence` must be accepted and made sound by
// light()'s own fence. In the default build light() is only a compiler
// barrier, so a fence on the heavy side alone would be unsound: `fence` must
// be refused, loudly.
#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "child_process.hpp"
#include "forced_strategy.hpp"
#include "seam_counter.hpp"
#include "store_buffering.hpp"

namespace {

using asymfence::strategy;

#if ASYMFENCE_CHECKED_LIGHT

constexpr std::uint64_t litmus_iterations = 1'000'000;

TEST(CheckedLight, SelectionStillPrefersAnAsymmetricMechanism) {
  asymfence::test::scoped_override automatic(nullptr);
  asymfence::selection_report report = asymfence::selection();
  // The first usable candidate in order of preference; fence comes last.
  strategy preferred = strategy::none;
  for (const asymfence::candidate_report& c : report.candidates) {
    if (c.usable) {
      preferred = c.id;
      break;
    }
  }
  ASSERT_NE(preferred, strategy::none) << automatic.message();
  EXPECT_EQ(automatic.selected(), preferred) << automatic.message();
  EXPECT_TRUE(report.light_fences) << "the checked build's light() can fence";
  std::printf("[ strategy ] %s\n", asymfence::to_string(automatic.selected()));
  if (preferred != strategy::fence) {
    EXPECT_FALSE(asymfence::detail::light_must_fence.load())
        << "light() must stay a compiler barrier while heavy() has "
        << asymfence::to_string(preferred);
  }
  // Where QUERY offers PRIVATE_EXPEDITED, as on this project's machines.
  if (report.candidates[0].usable) {
    EXPECT_EQ(automatic.selected(), strategy::membarrier_private_expedited);
  }
}

TEST(CheckedLight, ForcedFenceIsAcceptedAndLightFencesAgainstHeavy) {
  if (std::thread::hardware_concurrency() < 2) {
    GTEST_SKIP() << "one CPU: the two sides of the litmus never run at the same time";
  }
  asymfence::test::scoped_override forced("fence");
  ASSERT_EQ(forced.selected(), strategy::fence) << forced.message();
  EXPECT_EQ(asymfence::active_strategy(), strategy::fence);
  ASSERT_TRUE(asymfence::detail::light_must_fence.load())
      << "under the fence strategy light() must fence";

  asymfence::test::install_counting_seam();
  asymfence::test::counts().reset();
  const asymfence::statistics before = asymfence::stats();
  const asymfence::litmus::outcome real = asymfence::litmus::run_store_buffering(
      litmus_iterations, asymfence::litmus::light_barrier, asymfence::litmus::heavy_barrier);
  const asymfence::statistics after = asymfence::stats();
  std::printf("[ litmus   ] fence strategy, light vs heavy: %llu forbidden in %llu\n",
              static_cast<unsigned long long>(real.forbidden),
              static_cast<unsigned long long>(real.iterations));
  EXPECT_EQ(real.iterations, litmus_iterations);
  EXPECT_EQ(real.forbidden, 0u);

  // heavy() went through the library's fence path: every call counted, no
  // process-wide barrier issued and no system call made for any of them.
  EXPECT_GE(after.heavy_calls - before.heavy_calls, litmus_iterations);
  EXPECT_EQ(after.barriers_issued, before.barriers_issued);
  EXPECT_EQ(asymfence::test::counts().membarrier_private_expedited.load(), 0u);
  EXPECT_EQ(asymfence::test::counts().membarrier_global.load(), 0u);
  EXPECT_EQ(asymfence::test::counts().mprotect.load(), 0u);

  // Control: the same heavy() against a bare compiler barrier (light() with
  // the flag ignored) must show the forbidden outcome, so the zero above comes
  // from light()'s fence and the harness can see violations.
  const asymfence::litmus::outcome control = asymfence::litmus::repeat_until_forbidden(
      [&] {
        return asymfence::litmus::run_store_buffering(
            litmus_iterations, asymfence::litmus::compiler_barrier,
            asymfence::litmus::heavy_barrier);
      },
      asymfence::litmus::control_patience_seconds);
  std::printf("[ control  ] compiler barrier vs heavy: %llu forbidden in %llu\n",
              static_cast<unsigned long long>(control.forbidden),
              static_cast<unsigned long long>(control.iterations));
  EXPECT_GT(control.forbidden, 0u);
}

#else  // the default build

TEST(CheckedLight, DefaultBuildRefusesTheFenceStrategy) {
  // The library's own view: under ThreadSanitizer this test's light() fences,
  // but the library cannot rely on every caller being built that way.
  if (asymfence::selection().light_fences) {
    GTEST_SKIP() << "the library's light() fences on this platform (no asymmetric "
                    "mechanism), so it has no reason to refuse";
  }
  // In a child: its stderr is read, and heavy() is expected to stop it.
  asymfence::test::child_result child = asymfence::test::run_in_child([] {
    asymfence::init_result r = asymfence::test::reselect_with_override("fence");
    std::printf("init: selected %s, error %d\n", asymfence::to_string(r.selected), r.error);
    std::fflush(stdout);
    if (r || r.error == 0) return 1;
    asymfence::heavy();  // must stop the process: no sound strategy was selected
    return 2;
  });
  SCOPED_TRACE(child.output);
  EXPECT_NE(child.output.find("init: selected none"), std::string::npos);
  EXPECT_NE(child.output.find("ASYMFENCE_STRATEGY=fence is refused"), std::string::npos);
  EXPECT_NE(child.output.find("ASYMFENCE_CHECKED_LIGHT=ON"), std::string::npos)
      << "the message names the remedy";
  EXPECT_NE(child.output.find("usable here: auto, "), std::string::npos)
      << "the message lists the names that are accepted";
  EXPECT_TRUE(child.signaled && child.signal == SIGABRT)
      << "heavy() without a sound strategy must stop the process (exit code " << child.code
      << ")";
}

#endif

}  // namespace
