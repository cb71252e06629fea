// SPDX-License-Identifier: Apache-2.0 OR MIT
// The rules that depend on the CPU architecture, checked in every Linux build
// (native and cross under qemu-user): the mprotect trick is sound only on x86,
// and PRIVATE_EXPEDITED is trusted on RISC-V only from Linux 6.9.
//
// On x86 the same tests show the opposite outcome, which proves that they can
// tell the two apart.
#include <asymfence/diagnostics.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "forced_strategy.hpp"
#include "os_seam.hpp"
#include "seam_counter.hpp"

namespace {

using asymfence::strategy;

#if defined(__x86_64__) || defined(__i386__)
constexpr bool mprotect_sound_here = true;
#else
constexpr bool mprotect_sound_here = false;
#endif
#if defined(__riscv)
constexpr bool target_is_riscv = true;
#else
constexpr bool target_is_riscv = false;
#endif

constexpr const char* unsound_architecture = "unsound on this architecture";

asymfence::candidate_report candidate(const asymfence::selection_report& r, strategy id) {
  for (const asymfence::candidate_report& c : r.candidates) {
    if (c.id == id) return c;
  }
  ADD_FAILURE() << "selection() reports no candidate " << asymfence::to_string(id);
  return {};
}

bool contains(const char* text, const char* part) { return std::strstr(text, part) != nullptr; }

void expect_message_mentions(const std::string& message, const char* part) {
  EXPECT_TRUE(contains(message.c_str(), part)) << "'" << message << "' lacks '" << part << "'";
}

// On x86 a CPU with INVLPGB (or a refused paravirtual flush) refuses the trick
// for its own reason; the architecture never does.
void expect_architecture_allows_mprotect(const asymfence::candidate_report& c) {
  EXPECT_FALSE(contains(c.reason, unsound_architecture)) << c.reason;
}

TEST(MprotectStrategy, NeverSelectedWhereUnsound) {
  asymfence::selection_report r = asymfence::selection();
  asymfence::candidate_report c = candidate(r, strategy::mprotect);
  std::cout << "selected " << asymfence::to_string(r.selected) << "; mprotect "
            << (c.usable ? "usable" : c.reason) << "\n";
  if (mprotect_sound_here) {
    expect_architecture_allows_mprotect(c);
  } else {
    EXPECT_FALSE(c.usable);
    EXPECT_TRUE(contains(c.reason, unsound_architecture)) << c.reason;
    EXPECT_NE(r.selected, strategy::mprotect);
  }
}

// Without membarrier the trick would be the only asymmetric mechanism left:
// x86 takes it, every other architecture must refuse rather than select it.
long membarrier_missing(int, unsigned, int) noexcept {
  errno = ENOSYS;
  return -1;
}

TEST(MprotectStrategy, NotSelectedEvenWithoutMembarrier) {
  asymfence::detail::os.membarrier = membarrier_missing;
  asymfence::test::install_counting_seam();
  asymfence::test::counts().reset();
  asymfence::test::scoped_override automatic(nullptr);  // restores the real seam at the end
  asymfence::selection_report r = asymfence::selection();
  asymfence::candidate_report c = candidate(r, strategy::mprotect);
  std::cout << "membarrier missing: selected " << asymfence::to_string(r.selected) << " ("
            << r.message << "); mprotect " << (c.usable ? "usable" : c.reason) << "\n";
  EXPECT_GT(asymfence::test::counts().membarrier_query.load(), 0u) << "the fake was not used";
  EXPECT_FALSE(candidate(r, strategy::membarrier_private_expedited).usable);
  if (mprotect_sound_here) {
    expect_architecture_allows_mprotect(c);
    if (c.usable) EXPECT_EQ(automatic.selected(), strategy::mprotect);
  } else {
    EXPECT_FALSE(c.usable);
    EXPECT_TRUE(contains(c.reason, unsound_architecture)) << c.reason;
    EXPECT_NE(automatic.selected(), strategy::mprotect);
    if (r.light_fences) {
      // The checked-light build falls back to fences on both sides.
      EXPECT_EQ(automatic.selected(), strategy::fence);
    } else {
      // Nothing sound is left in the default build: init() says so.
      EXPECT_EQ(automatic.selected(), strategy::none);
      EXPECT_EQ(automatic.error(), ENOSYS);
      expect_message_mentions(automatic.message(), "no sound heavy barrier");
    }
  }
}

TEST(MprotectStrategy, RefusedWhenForced) {
  {
    // The control: forcing the strategy selection chose is accepted here.
    const strategy usable = asymfence::active_strategy();
    ASSERT_NE(usable, strategy::none) << asymfence::selection().message;
    asymfence::test::scoped_override same(asymfence::to_string(usable));
    ASSERT_EQ(same.selected(), usable) << same.message();
  }
  asymfence::test::scoped_override forced("mprotect");
  std::cout << "ASYMFENCE_STRATEGY=mprotect: selected " << asymfence::to_string(forced.selected())
            << " " << forced.message() << "\n";
  if (mprotect_sound_here) {
    expect_architecture_allows_mprotect(candidate(asymfence::selection(), strategy::mprotect));
    if (candidate(asymfence::selection(), strategy::mprotect).usable) {
      EXPECT_EQ(forced.selected(), strategy::mprotect);
    }
  } else {
    EXPECT_EQ(forced.selected(), strategy::none);
    EXPECT_EQ(forced.error(), ENOTSUP);
    expect_message_mentions(forced.message(), "ASYMFENCE_STRATEGY=mprotect is refused");
    expect_message_mentions(forced.message(), unsound_architecture);
    EXPECT_EQ(asymfence::active_strategy(), strategy::none);
  }
}

// The kernel release the seam reports, and how often selection asked for it.
std::string faked_release;
int release_calls = 0;

int fake_kernel_release(char* buf, std::size_t cap) noexcept {
  ++release_calls;
  std::snprintf(buf, cap, "%s", faked_release.c_str());
  return 0;
}

asymfence::selection_report select_with_release(const char* release) {
  faked_release = release;
  release_calls = 0;
  asymfence::detail::os.kernel_release = fake_kernel_release;
  asymfence::test::scoped_override automatic(nullptr);  // restores the real seam at the end
  asymfence::selection_report r = asymfence::selection();
  EXPECT_GT(release_calls, 0) << "the fake kernel release was not used";
  EXPECT_STREQ(r.kernel_release, release);
  asymfence::candidate_report c = candidate(r, strategy::membarrier_private_expedited);
  std::cout << "kernel " << release << ": selected " << asymfence::to_string(r.selected)
            << "; membarrier_private_expedited " << (c.usable ? "usable" : c.reason) << "\n";
  return r;
}

TEST(RiscvKernelRule, PrivateExpeditedRefusedBelow6_9) {
  for (const char* old_release : {"6.8.0", "5.15.0-91-generic"}) {
    asymfence::selection_report r = select_with_release(old_release);
    asymfence::candidate_report c = candidate(r, strategy::membarrier_private_expedited);
    if (target_is_riscv) {
      EXPECT_FALSE(c.usable);
      EXPECT_TRUE(contains(c.reason, "older than 6.9")) << c.reason;
      EXPECT_TRUE(contains(c.reason, old_release)) << c.reason;
      EXPECT_NE(r.selected, strategy::membarrier_private_expedited);
      // The next sound strategy on RISC-V (the mprotect trick is unsound there).
      EXPECT_EQ(r.selected, strategy::membarrier_global) << r.message;
    } else {
      // The rule is RISC-V's only.
      EXPECT_TRUE(c.usable) << c.reason;
      EXPECT_EQ(r.selected, strategy::membarrier_private_expedited);
    }
  }
}

TEST(RiscvKernelRule, PrivateExpeditedSelectedFrom6_9) {
  for (const char* new_release : {"6.9.0", "6.18.44-cloud-amd64"}) {
    asymfence::selection_report r = select_with_release(new_release);
    asymfence::candidate_report c = candidate(r, strategy::membarrier_private_expedited);
    EXPECT_TRUE(c.usable) << c.reason;
    EXPECT_EQ(r.selected, strategy::membarrier_private_expedited) << r.message;
  }
}

}  // namespace
