// SPDX-License-Identifier: Apache-2.0 OR MIT
// Windows: heavy() is FlushProcessWriteBuffers, or the VirtualProtect trick
// where FlushProcessWriteBuffers is refused. Runs under Wine in CI, whose
// FlushProcessWriteBuffers is a stub that does nothing: there the library
// must refuse it and select virtual_protect, which Wine maps to the host's
// mprotect. The store-buffering litmus runs with its control, and the
// interrupts that a CPU spinning one of our threads receives are counted from
// the host's /proc/interrupts (Z:\proc\interrupts under Wine).
//
// The seam's `wine` entry makes each platform look like the other, so both
// orders of preference are checked wherever the tests run.
#include <gtest/gtest.h>
#include <windows.h>

#include <algorithm>
#include <asymfence/diagnostics.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "emulator.hpp"
#include "interrupt_counts.hpp"
#include "os_seam.hpp"
#include "seam_counter.hpp"
#include "store_buffering.hpp"
#include "testing.hpp"

namespace {

using asymfence::strategy;

// What the real seam says: Wine's version, or nullptr on Windows itself.
const char* wine_version() {
  const char* version = nullptr;
  const char* host = nullptr;
  return asymfence::detail::real_os().wine(&version, &host) ? version : nullptr;
}

bool not_wine(const char**, const char**) noexcept { return false; }
bool wine_on_linux(const char** version, const char** host) noexcept {
  *version = "9.0";
  *host = "Linux";
  return true;
}
bool wine_on_darwin(const char** version, const char** host) noexcept {
  *version = "9.0";
  *host = "Darwin";
  return true;
}

bool contains(const char* text, const char* part) { return std::strstr(text, part) != nullptr; }

asymfence::candidate_report candidate(strategy id) {
  for (const asymfence::candidate_report& c : asymfence::selection().candidates) {
    if (c.id == id) return c;
  }
  ADD_FAILURE() << "no candidate " << asymfence::to_string(id);
  return {};
}

void print_candidates() {
  const asymfence::selection_report r = asymfence::selection();
  for (const asymfence::candidate_report& c : r.candidates) {
    std::cout << "  " << asymfence::to_string(c.id) << ": "
              << (c.selected ? "selected"
                  : c.usable ? "usable"
                             : c.reason)
              << "\n";
  }
  std::cout << "  TLB shootdowns: " << r.tlb.verdict << "\n";
}

// Selects again with ASYMFENCE_STRATEGY set to `forced` (nullptr: automatic)
// over the seam as it is; the real seam and the automatic selection come back
// at the end of the scope.
class reselection {
 public:
  explicit reselection(const char* forced = nullptr) {
    if (forced != nullptr) _putenv_s("ASYMFENCE_STRATEGY", forced);
    result_ = asymfence::detail::reselect_for_testing();
    message_ = result_.message;
    if (forced != nullptr) _putenv_s("ASYMFENCE_STRATEGY", "");
  }
  ~reselection() {
    asymfence::detail::os = asymfence::detail::real_os();
    asymfence::detail::reselect_for_testing();
  }
  reselection(const reselection&) = delete;
  reselection& operator=(const reselection&) = delete;
  strategy selected() const { return result_.selected; }
  const std::string& message() const { return message_; }

 private:
  asymfence::init_result result_;
  std::string message_;
};

// The strategy this platform must select: Windows' own barrier, except under
// Wine, where it is a stub and the VirtualProtect trick takes over (x86 CPUs
// without INVLPGB or a refused hypervisor flush, as the mprotect trick).
strategy expected_strategy() {
  if (wine_version() == nullptr) return strategy::flush_process_write_buffers;
  return asymfence::selection().tlb.interrupts_every_cpu ? strategy::virtual_protect
                                                         : strategy::none;
}

TEST(Windows, SelectsFlushProcessWriteBuffersOnWindowsAndVirtualProtectUnderWine) {
  asymfence::init_result result = asymfence::init();
  const char* wine = wine_version();
  std::cout << "Wine: " << (wine == nullptr ? "no" : wine) << "; selected "
            << asymfence::to_string(result.selected) << "\n";
  print_candidates();
  EXPECT_EQ(result.selected, expected_strategy()) << result.message;
  EXPECT_FALSE(asymfence::selection().light_fences)
      << "light() must be a compiler barrier in the default build";
  EXPECT_STREQ(asymfence::selection().platform_warning, "");
  for (strategy linux_only :
       {strategy::membarrier_private_expedited, strategy::mprotect, strategy::membarrier_global}) {
    EXPECT_FALSE(candidate(linux_only).usable) << asymfence::to_string(linux_only);
  }
  EXPECT_FALSE(candidate(strategy::fence).usable) << "unsound with a compiler-barrier light()";
  const asymfence::candidate_report flush = candidate(strategy::flush_process_write_buffers);
  if (wine != nullptr) {
    EXPECT_FALSE(flush.usable);
    EXPECT_TRUE(contains(flush.reason, "Wine")) << flush.reason;
    EXPECT_TRUE(contains(flush.reason, wine)) << flush.reason;
    EXPECT_TRUE(contains(flush.reason, "stub")) << flush.reason;
  } else {
    EXPECT_TRUE(flush.selected);
  }
}

// On Windows itself FlushProcessWriteBuffers stays first; as if under Wine on
// Linux, VirtualProtect takes over; under Wine on another host neither is
// sound, and selection refuses.
TEST(Windows, PreferenceFollowsWhatTheSeamSaysOfWine) {
  {
    asymfence::detail::os.wine = not_wine;
    reselection windows;
    std::cout << "as on Windows: " << asymfence::to_string(windows.selected()) << "\n";
    EXPECT_EQ(windows.selected(), strategy::flush_process_write_buffers) << windows.message();
  }
  asymfence::detail::os.wine = wine_on_linux;
  {
    reselection wine_linux;
    std::cout << "as under Wine on Linux: " << asymfence::to_string(wine_linux.selected()) << " "
              << wine_linux.message() << "\n";
    if (asymfence::selection().tlb.interrupts_every_cpu) {
      EXPECT_EQ(wine_linux.selected(), strategy::virtual_protect) << wine_linux.message();
    } else {
      EXPECT_EQ(wine_linux.selected(), strategy::none) << wine_linux.message();
    }
  }
  asymfence::detail::os.wine = wine_on_darwin;
  {
    reselection wine_darwin;
    std::cout << "as under Wine on Darwin: " << wine_darwin.message() << "\n";
    EXPECT_EQ(wine_darwin.selected(), strategy::none);
    EXPECT_TRUE(contains(candidate(strategy::virtual_protect).reason, "Darwin"))
        << candidate(strategy::virtual_protect).reason;
  }
}

// Forcing the stub under Wine is possible, and loud: the reason becomes the
// warning, and the probe fails its self-check on it.
TEST(Windows, ForcedFlushProcessWriteBuffersUnderWineWarns) {
  asymfence::detail::os.wine = wine_on_linux;
  reselection forced("flush_process_write_buffers");
  ASSERT_EQ(forced.selected(), strategy::flush_process_write_buffers) << forced.message();
  const asymfence::selection_report report = asymfence::selection();
  const char* warning = report.platform_warning;
  std::cout << "platform_warning: \"" << warning << "\"\n";
  for (const char* part : {"ASYMFENCE_STRATEGY=flush_process_write_buffers is in force although",
                           "Wine 9.0", "stub"}) {
    EXPECT_TRUE(contains(warning, part)) << "'" << warning << "' lacks '" << part << "'";
  }
}

// heavy() reaches the selected mechanism's call: FlushProcessWriteBuffers once
// per call, or VirtualProtect twice.
TEST(Windows, HeavyCallsTheSelectedMechanism) {
  asymfence::test::install_counting_seam();
  reselection automatic;
  ASSERT_NE(automatic.selected(), strategy::none) << automatic.message();
  asymfence::test::counts().reset();
  const asymfence::statistics before = asymfence::stats();
  constexpr std::uint64_t calls = 100;
  for (std::uint64_t i = 0; i < calls; ++i) asymfence::heavy();
  EXPECT_TRUE(asymfence::try_heavy()) << "no other caller, so it must not give up";
  const asymfence::statistics after = asymfence::stats();
  // One thread, so no barrier is shared: each call issues its own.
  if (automatic.selected() == strategy::virtual_protect) {
    EXPECT_EQ(asymfence::test::counts().mprotect.load(), 2 * (calls + 1));
  } else {
    EXPECT_EQ(asymfence::test::counts().flush_process_write_buffers.load(), calls + 1);
  }
  EXPECT_EQ(after.heavy_calls - before.heavy_calls, calls + 1);
  EXPECT_EQ(after.barriers_issued - before.barriers_issued, calls + 1);
  EXPECT_EQ(after.strategy_switches, before.strategy_switches);
}

// The interrupts that the host CPU running a spinning thread receives during
// `calls` heavy() calls made from the other CPU, and over as long a time
// without; -1 when they cannot be counted.
struct interrupts {
  std::int64_t with_heavy = -1;
  std::int64_t without_heavy = -1;
  bool spinner_realtime = false;
};

// Whether the test runs with a real-time policy on the Linux host: Wine maps
// no Windows priority to one, so tests/platform/tests.cmake starts this test
// under chrt where allowed (as the Linux interrupt tests raise their spinner)
// and says so in ASYMFENCE_TEST_REALTIME. (The host's /proc cannot tell: Wine
// opens files in its server, so Z:\proc\thread-self is the server's.)
bool runs_realtime() {
  const char* realtime = std::getenv("ASYMFENCE_TEST_REALTIME");
  return realtime != nullptr && std::strcmp(realtime, "1") == 0;
}

interrupts count_interrupts(std::uint64_t calls) {
  interrupts result;
  const int spinner_cpu = asymfence::litmus::nth_allowed_cpu(1);
  if (spinner_cpu < 0 || asymfence::test::function_call_interrupts(spinner_cpu) < 0) return result;
  result.spinner_realtime = runs_realtime();
  std::atomic<bool> pinned{false};
  std::atomic<bool> stop{false};
  std::thread spinner([&] {
    pinned.store(asymfence::litmus::pin_to_nth_allowed_cpu(1));
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  asymfence::litmus::pin_to_nth_allowed_cpu(0);
  while (!pinned.load()) std::this_thread::yield();
  std::int64_t before = asymfence::test::function_call_interrupts(spinner_cpu);
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < calls; ++i) asymfence::heavy();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  result.with_heavy = asymfence::test::function_call_interrupts(spinner_cpu) - before;
  before = asymfence::test::function_call_interrupts(spinner_cpu);
  std::this_thread::sleep_for(elapsed);
  result.without_heavy = asymfence::test::function_call_interrupts(spinner_cpu) - before;
  stop.store(true);
  spinner.join();
  return result;
}

// A CPU that runs a spinning thread of the process is interrupted at least
// once per two heavy() calls, and far less often without them. Counted under
// Wine only: Windows has no /proc/interrupts. The stub's figure is printed
// beside it, to show that the count tells a barrier from none.
TEST(Windows, HeavyInterruptsACpuRunningASpinningThread) {
  if (wine_version() == nullptr) GTEST_SKIP() << "interrupts are counted only under Wine";
  if (asymfence::litmus::nth_allowed_cpu(1) < 0) GTEST_SKIP() << "needs two CPUs";
  ASSERT_EQ(asymfence::active_strategy(), strategy::virtual_protect);
  constexpr std::uint64_t calls = 2000;
  interrupts real{};
  for (int attempt = 1; attempt <= 4; ++attempt) {  // a busy host may preempt the spinner
    real = count_interrupts(calls);
    ASSERT_GE(real.with_heavy, 0) << "cannot read " << asymfence::test::interrupts_file;
    std::cout << "virtual_protect, attempt " << attempt << ": " << real.with_heavy
              << " interrupts during " << calls << " heavy() calls ("
              << static_cast<double>(real.with_heavy) / calls << " per call), "
              << real.without_heavy
              << " without (real-time spinner: " << (real.spinner_realtime ? "yes" : "no") << ")\n";
    if (2 * static_cast<std::uint64_t>(real.with_heavy) >= calls) break;
  }
  {
    reselection stub("flush_process_write_buffers");
    const interrupts none = count_interrupts(calls);
    std::cout << "flush_process_write_buffers (Wine's stub): " << none.with_heavy
              << " interrupts during " << calls << " heavy() calls ("
              << static_cast<double>(none.with_heavy) / calls << " per call)\n";
  }
  EXPECT_GE(2 * static_cast<std::uint64_t>(real.with_heavy), calls)
      << "heavy() did not interrupt the CPU running a spinning thread";
  EXPECT_LT(4 * static_cast<std::uint64_t>(real.without_heavy), calls)
      << "the spinning CPU is interrupted as often without heavy(): the count proves nothing";
}

// light() against heavy() never shows the forbidden outcome, while light()
// against a plain fence (the control) does, so the litmus could have caught a
// barrier that does nothing; the selected mechanism's calls are counted.
TEST(Windows, StoreBufferingLitmus) {
  if (asymfence::litmus::nth_allowed_cpu(1) < 0) GTEST_SKIP() << "needs two CPUs";
  const strategy s = asymfence::active_strategy();
  ASSERT_EQ(s, expected_strategy());
  const asymfence::litmus::outcome control = asymfence::litmus::run_control(1000000);
  std::cout << "control (light vs fence): " << control.forbidden << " forbidden of "
            << control.iterations << "\n";
  ASSERT_GT(control.forbidden, 0u)
      << "light() against a plain fence showed no violation: the litmus cannot tell";
  // Enough rounds that a heavy() doing nothing would have shown the forbidden
  // outcome about ten times at the control's rate. VirtualProtect costs tens of
  // microseconds under Wine, and on a busy host the two threads seldom run at
  // once: rounds are added, a minute at a time, for up to five minutes.
  const std::uint64_t needed =
      std::max<std::uint64_t>(20000, 10 * control.iterations / control.forbidden);
  asymfence::test::install_counting_seam();
  asymfence::test::counts().reset();
  asymfence::litmus::outcome real;
  const auto start = std::chrono::steady_clock::now();
  while (real.iterations < needed &&
         std::chrono::steady_clock::now() - start < std::chrono::minutes(5)) {
    const asymfence::litmus::outcome more = asymfence::litmus::run_store_buffering(
        1000000, asymfence::litmus::light_barrier, asymfence::litmus::heavy_barrier, 60);
    real.iterations += more.iterations;
    real.forbidden += more.forbidden;
    real.pinned = more.pinned;
  }
  std::cout << asymfence::to_string(s) << ": light vs heavy " << real.forbidden << " forbidden of "
            << real.iterations << " (" << needed << " needed; pinned: " << real.pinned << ")\n";
  EXPECT_GE(real.iterations, needed) << "too few rounds to tell a barrier from none";
  EXPECT_EQ(real.forbidden, 0u);
  const auto& counted = asymfence::test::counts();
  EXPECT_GT(s == strategy::virtual_protect ? counted.mprotect.load()
                                           : counted.flush_process_write_buffers.load(),
            0u);
  asymfence::detail::os = asymfence::detail::real_os();
}

}  // namespace
