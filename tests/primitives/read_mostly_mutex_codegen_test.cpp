// SPDX-License-Identifier: Apache-2.0 OR MIT
// read_mostly_mutex's read side must hold no atomic read-modify-write and no
// fence: the disassembled shared section (lock_shared, a read, unlock_shared)
// has no lock-prefixed instruction, xchg or mfence, and calls nothing but the
// mutex's own slow paths. The controls, std::shared_mutex's shared section
// (calls) and an inline reader count (lock-prefixed read-modify-writes) must
// be flagged, so the check is shown to see what it looks for.
#include <gtest/gtest.h>

#include <asymfence/export.h>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.hpp"

namespace {

struct findings {
  int instructions = 0;
  std::vector<std::string> atomic_or_fence;  // lock-prefixed, xchg, mfence
  std::vector<std::string> foreign_calls;    // calls to anything but the mutex's slow paths
};

findings inspect(const std::string& disassembly, const std::string& function) {
  findings f;
  std::istringstream lines(disassembly);
  std::string line;
  bool inside = false;
  bool pending_call = false;  // a call or jump whose relocation comes next
  while (std::getline(lines, line)) {
    if (line.find("<" + function + ">:") != std::string::npos) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.empty()) break;
    // In an object file a call's target is the relocation on the next line.
    if (line.find("R_X86_64_") != std::string::npos) {
      if (pending_call && line.find("lock_shared_slow") == std::string::npos &&
          line.find("unlock_shared_counted") == std::string::npos) {
        f.foreign_calls.push_back(line.substr(line.find("R_X86_64_")));
      }
      pending_call = false;
      continue;
    }
    const std::size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    const std::string insn = line.substr(tab + 1);
    ++f.instructions;
    if (insn.rfind("lock", 0) == 0 || insn.rfind("xchg", 0) == 0 || insn.rfind("mfence", 0) == 0) {
      f.atomic_or_fence.push_back(insn);
    }
    pending_call = insn.rfind("call", 0) == 0 || insn.rfind("jmp", 0) == 0;
  }
  return f;
}

TEST(ReadMostlyMutexCodegen, TheSharedSectionHasNoAtomicReadModifyWriteOrFence) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the instruction names checked are x86-64's";
#elif !ASYMFENCE_LIGHT_IS_COMPILER_BARRIER
  GTEST_SKIP() << "light() fences in this build (checked or ThreadSanitizer), by design";
#else
  const asymfence::test::child_result r = asymfence::test::run_program(
      ASYMFENCE_OBJDUMP,
      {"-d", "--no-show-raw-insn", "-C", "-r", ASYMFENCE_CODEGEN_OBJECT});
  ASSERT_TRUE(r.exited && r.code == 0) << ASYMFENCE_OBJDUMP << " failed: " << r.output;

  const findings ours = inspect(r.output, "read_mostly_shared_section");
  const findings control = inspect(r.output, "std_shared_section");
  const findings counted = inspect(r.output, "counted_shared_section");
  std::printf(
      "[ codegen  ] read_mostly_mutex: %d instructions, %zu atomic/fence, %zu other calls; "
      "std::shared_mutex: %zu other calls; inline reader count: %zu atomic/fence\n",
      ours.instructions, ours.atomic_or_fence.size(), ours.foreign_calls.size(),
      control.foreign_calls.size(), counted.atomic_or_fence.size());
  ASSERT_GT(ours.instructions, 0) << "read_mostly_shared_section not found in the disassembly";
  ASSERT_GT(control.instructions, 0) << "std_shared_section not found in the disassembly";
  ASSERT_GT(counted.instructions, 0) << "counted_shared_section not found in the disassembly";
  for (const std::string& insn : ours.atomic_or_fence) ADD_FAILURE() << "read side: " << insn;
  for (const std::string& insn : ours.foreign_calls) ADD_FAILURE() << "read side calls: " << insn;
  EXPECT_GT(control.foreign_calls.size(), 0u)
      << "std::shared_mutex's calls were not flagged: the check cannot see calls";
  EXPECT_GT(counted.atomic_or_fence.size(), 0u)
      << "an inline fetch_add was not flagged: the check cannot see a read-modify-write";
#endif
}

}  // namespace
