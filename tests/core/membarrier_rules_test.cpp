// SPDX-License-Identifier: Apache-2.0 OR MIT
// The kernel-version rules: RISC-V kernels before 6.9 advertise
// PRIVATE_EXPEDITED but it is broken there, and release strings are compared
// numerically, not as text.
#include <asymfence/asymfence.hpp>
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <cstring>

#include "forced_strategy.hpp"
#include "membarrier.hpp"
#include "os_seam.hpp"

namespace {

using asymfence::detail::kernel_release_at_least;
using asymfence::detail::private_expedited_trusted;

TEST(KernelRelease, ComparesMajorThenMinorNumerically) {
  EXPECT_TRUE(kernel_release_at_least("6.9.0", 6, 9));
  EXPECT_TRUE(kernel_release_at_least("6.9", 6, 9));
  EXPECT_FALSE(kernel_release_at_least("6.8.12", 6, 9));
  EXPECT_TRUE(kernel_release_at_least("6.10.0", 6, 9)) << "10 > 9, though '1' < '9'";
  EXPECT_FALSE(kernel_release_at_least("6.9.0", 6, 10));
  EXPECT_TRUE(kernel_release_at_least("7.0.0", 6, 9));
  EXPECT_TRUE(kernel_release_at_least("10.1", 6, 9));
  EXPECT_FALSE(kernel_release_at_least("5.15.0", 6, 9));
  EXPECT_FALSE(kernel_release_at_least("4.19.0", 4, 20));
}

TEST(KernelRelease, AcceptsDistributionSuffixes) {
  EXPECT_TRUE(kernel_release_at_least("6.18.44-amd64", 6, 9));
  EXPECT_TRUE(kernel_release_at_least("6.9.0-rc1", 6, 9));
  EXPECT_FALSE(kernel_release_at_least("6.8.0-45-generic", 6, 9));
  EXPECT_TRUE(kernel_release_at_least("6.9-rc7+", 6, 9));
}

TEST(KernelRelease, UnparsableIsNotAtLeastAnything) {
  EXPECT_FALSE(kernel_release_at_least(nullptr, 0, 0));
  EXPECT_FALSE(kernel_release_at_least("", 0, 0));
  EXPECT_FALSE(kernel_release_at_least("linux", 0, 0));
  EXPECT_FALSE(kernel_release_at_least("6", 0, 0)) << "no minor number";
  EXPECT_FALSE(kernel_release_at_least("6.", 0, 0));
  EXPECT_FALSE(kernel_release_at_least("v6.9", 6, 9));
}

TEST(PrivateExpeditedTrust, RiscVNeedsSixNine) {
  EXPECT_FALSE(private_expedited_trusted(true, "6.8.0"));
  EXPECT_FALSE(private_expedited_trusted(true, "5.19.0"));
  EXPECT_TRUE(private_expedited_trusted(true, "6.9.0"));
  EXPECT_TRUE(private_expedited_trusted(true, "6.12.3-riscv64"));
  EXPECT_FALSE(private_expedited_trusted(true, "garbage")) << "unknown kernel: not trusted";
  EXPECT_FALSE(private_expedited_trusted(true, ""));
  EXPECT_FALSE(private_expedited_trusted(true, nullptr));
}

TEST(PrivateExpeditedTrust, OtherArchitecturesAlwaysTrust) {
  EXPECT_TRUE(private_expedited_trusted(false, "6.8.0"));
  EXPECT_TRUE(private_expedited_trusted(false, "4.14.0"));
  EXPECT_TRUE(private_expedited_trusted(false, "garbage"));
  EXPECT_TRUE(private_expedited_trusted(false, nullptr));
}

// The same rule through selection, with the kernel release faked in the seam.
const char* faked_release = "";
int fake_kernel_release(char* buf, std::size_t cap) noexcept {
  std::strncpy(buf, faked_release, cap - 1);
  buf[cap - 1] = '\0';
  return 0;
}

asymfence::candidate_report private_expedited_under(const char* release) {
  faked_release = release;
  asymfence::test::scoped_override automatic(nullptr);
  asymfence::detail::os.kernel_release = fake_kernel_release;
  asymfence::detail::reselect_for_testing();
  asymfence::selection_report report = asymfence::selection();
  EXPECT_STREQ(report.kernel_release, release);
  for (const asymfence::candidate_report& c : report.candidates) {
    if (c.id == asymfence::strategy::membarrier_private_expedited) return c;
  }
  ADD_FAILURE() << "no membarrier_private_expedited candidate";
  return {};
}

TEST(PrivateExpeditedTrust, SelectionFollowsTheRuleForThisArchitecture) {
  constexpr long private_expedited_bits = (1 << 3) | (1 << 4);
  asymfence::selection_report report = asymfence::selection();
  if (report.membarrier_query < 0 ||
      (report.membarrier_query & private_expedited_bits) != private_expedited_bits) {
    GTEST_SKIP() << "this kernel does not offer PRIVATE_EXPEDITED";
  }
  asymfence::candidate_report old_kernel = private_expedited_under("6.8.0");
  asymfence::candidate_report new_kernel = private_expedited_under("6.9.0");
  EXPECT_TRUE(new_kernel.usable) << new_kernel.reason;
#if defined(__riscv)
  EXPECT_FALSE(old_kernel.usable);
  EXPECT_NE(std::strstr(old_kernel.reason, "RISC-V"), nullptr) << old_kernel.reason;
#else
  EXPECT_TRUE(old_kernel.usable) << "the rule is for RISC-V only: " << old_kernel.reason;
#endif
}

}  // namespace
