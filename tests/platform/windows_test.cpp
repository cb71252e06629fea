// SPDX-License-Identifier: Apache-2.0 OR MIT
// Windows: heavy() is FlushProcessWriteBuffers. Runs under Wine in CI, whose
// FlushProcessWriteBuffers is a stub that does nothing: there the library
// must say so (platform_warning), and the store-buffering litmus cannot pass,
// so it is skipped with that reason while the API and selection tests run.
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <string>

#include <windows.h>

#include "emulator.hpp"
#include "os_seam.hpp"
#include "seam_counter.hpp"
#include "store_buffering.hpp"
#include "testing.hpp"

namespace {

using asymfence::strategy;

// Wine's ntdll exports wine_get_version; Windows' does not.
const char* wine_version() {
  using version_function = const char* (*)();
  HMODULE ntdll = ::GetModuleHandleA("ntdll.dll");
  if (ntdll == nullptr) return nullptr;
  auto get = reinterpret_cast<version_function>(
      reinterpret_cast<void*>(::GetProcAddress(ntdll, "wine_get_version")));
  return get == nullptr ? nullptr : get();
}

TEST(Windows, SelectsFlushProcessWriteBuffers) {
  asymfence::init_result result = asymfence::init();
  ASSERT_TRUE(result) << result.message;
  EXPECT_EQ(result.selected, strategy::flush_process_write_buffers);
  EXPECT_EQ(asymfence::active_strategy(), strategy::flush_process_write_buffers);
  asymfence::selection_report r = asymfence::selection();
  EXPECT_FALSE(r.light_fences) << "light() must be a compiler barrier in the default build";
  for (const asymfence::candidate_report& c : r.candidates) {
    std::cout << asymfence::to_string(c.id) << ": "
              << (c.selected ? "selected" : c.usable ? "usable" : c.reason) << "\n";
    if (c.id == strategy::flush_process_write_buffers) {
      EXPECT_TRUE(c.selected);
    } else {
      // membarrier and mprotect are Linux mechanisms; fence is unsound with a
      // compiler-barrier light().
      EXPECT_FALSE(c.usable) << asymfence::to_string(c.id);
      EXPECT_STRNE(c.reason, "") << asymfence::to_string(c.id);
    }
  }
}

TEST(Windows, HeavyCallsFlushProcessWriteBuffers) {
  asymfence::test::install_counting_seam();
  asymfence::detail::reselect_for_testing();
  asymfence::test::counts().reset();
  asymfence::statistics before = asymfence::stats();
  constexpr int calls = 100;
  for (int i = 0; i < calls; ++i) asymfence::heavy();
  EXPECT_TRUE(asymfence::try_heavy()) << "no other caller, so it must not give up";
  asymfence::statistics after = asymfence::stats();
  // One thread, so no barrier is shared: each call issues its own.
  EXPECT_GE(asymfence::test::counts().flush_process_write_buffers.load(),
            static_cast<std::uint64_t>(calls + 1));
  EXPECT_GE(after.heavy_calls - before.heavy_calls, static_cast<std::uint64_t>(calls + 1));
  EXPECT_GE(after.barriers_issued - before.barriers_issued, static_cast<std::uint64_t>(calls + 1));
  EXPECT_EQ(after.strategy_switches, before.strategy_switches);
  asymfence::detail::os = asymfence::detail::real_os();
}

TEST(Windows, WarnsUnderWine) {
  const char* wine = wine_version();
  if (asymfence::test::emulator_name() == "wine") {
    ASSERT_NE(wine, nullptr) << "ASYMFENCE_EMULATOR says Wine, but ntdll is not Wine's";
  }
  asymfence::selection_report r = asymfence::selection();
  std::cout << "Wine: " << (wine == nullptr ? "no" : wine) << "; platform_warning: \""
            << r.platform_warning << "\"\n";
  if (wine != nullptr) {
    EXPECT_NE(std::strstr(r.platform_warning, "Wine"), nullptr) << r.platform_warning;
    EXPECT_NE(std::strstr(r.platform_warning, wine), nullptr) << r.platform_warning;
    EXPECT_NE(std::strstr(r.platform_warning, "stub"), nullptr) << r.platform_warning;
  } else {
    EXPECT_STREQ(r.platform_warning, "");
  }
}

TEST(Windows, StoreBufferingLitmus) {
  if (const char* wine = wine_version()) {
    GTEST_SKIP() << "under Wine " << wine
                 << ", whose FlushProcessWriteBuffers is a stub that does nothing: the litmus "
                    "would show the stub, not the library";
  }
  asymfence::litmus::outcome control = asymfence::litmus::run_control(1000000);
  ASSERT_GT(control.forbidden, 0u)
      << "light() against a plain fence showed no violation: the litmus cannot tell";
  asymfence::test::install_counting_seam();
  asymfence::test::counts().reset();
  constexpr std::uint64_t iterations = 1000000;
  asymfence::litmus::outcome real = asymfence::litmus::run_store_buffering(
      iterations, asymfence::litmus::light_barrier, asymfence::litmus::heavy_barrier);
  std::cout << "control forbidden " << control.forbidden << ", light vs heavy forbidden "
            << real.forbidden << " of " << real.iterations << "\n";
  EXPECT_EQ(real.forbidden, 0u);
  EXPECT_GT(asymfence::test::counts().flush_process_write_buffers.load(), 0u);
  asymfence::detail::os = asymfence::detail::real_os();
}

}  // namespace
