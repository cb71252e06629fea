// SPDX-License-Identifier: Apache-2.0 OR MIT
// light() must cost a caller nothing: in the default build its body
// disassembles to a bare return. The checker is shown to work on a control
// function holding a seq_cst fence, which it must flag.
#include <asymfence/asymfence.hpp>

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "child_process.hpp"

namespace {

// What the target architecture returns and fences with, as objdump spells it.
struct instruction_set {
  const char* name;
  std::vector<std::string> returns;
  std::vector<std::string> fence_prefixes;  // an instruction starting with one is a fence
  std::vector<std::string> allowed_prologue;
};

const instruction_set* target_instruction_set() {
#if defined(__x86_64__) || defined(__i386__)
#if defined(__CET__)
  // -fcf-protection is among the compiler's defaults: every function may
  // start with an indirect-branch landing pad.
  static const instruction_set x86{
      "x86", {"ret", "retq", "retl"}, {"mfence", "lock "}, {"endbr64", "endbr32"}};
#else
  static const instruction_set x86{"x86", {"ret", "retq", "retl"}, {"mfence", "lock "}, {}};
#endif
  return &x86;
#elif defined(__aarch64__)
  static const instruction_set aarch64{"aarch64", {"ret"}, {"dmb", "dsb"}, {}};
  return &aarch64;
#elif defined(__riscv)
  static const instruction_set riscv{"riscv", {"ret"}, {"fence"}, {}};
  return &riscv;
#elif defined(__powerpc64__)
  static const instruction_set power{"powerpc64", {"blr"}, {"sync", "hwsync", "lwsync"}, {}};
  return &power;
#else
  return nullptr;
#endif
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// The instructions of `function` in `objdump -d --no-show-raw-insn` output,
// one per element, whitespace trimmed.
std::vector<std::string> instructions_of(const std::string& disassembly,
                                         const std::string& function) {
  std::vector<std::string> body;
  std::istringstream lines(disassembly);
  std::string line;
  bool inside = false;
  const std::string header = "<" + function + ">:";
  while (std::getline(lines, line)) {
    if (!inside) {
      inside = line.size() >= header.size() &&
               line.compare(line.size() - header.size(), header.size(), header) == 0;
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) break;  // end of the function
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string instruction = line.substr(colon + 1);
    instruction.erase(0, instruction.find_first_not_of(" \t"));
    instruction.erase(instruction.find_last_not_of(" \t") + 1);
    for (char& c : instruction) {
      if (c == '\t') c = ' ';
    }
    if (!instruction.empty()) body.push_back(instruction);
  }
  return body;
}

bool is_one_of(const std::string& instruction, const std::vector<std::string>& mnemonics) {
  for (const std::string& m : mnemonics) {
    if (instruction == m) return true;
  }
  return false;
}

// True when the body is a return and nothing else (after an allowed prologue).
// What follows the first return never runs: alignment padding, or the
// traceback table that POWER compilers append after `blr`.
bool is_only_return(const std::vector<std::string>& body, const instruction_set& isa) {
  std::size_t i = 0;
  if (i < body.size() && is_one_of(body[i], isa.allowed_prologue)) ++i;
  return i < body.size() && is_one_of(body[i], isa.returns);
}

bool has_fence(const std::vector<std::string>& body, const instruction_set& isa) {
  for (const std::string& instruction : body) {
    for (const std::string& prefix : isa.fence_prefixes) {
      if (starts_with(instruction, prefix)) return true;
    }
  }
  return false;
}

std::string joined(const std::vector<std::string>& body) {
  std::string text;
  for (const std::string& instruction : body) text += "\n  " + instruction;
  return text.empty() ? " (no instructions found)" : text;
}

class Codegen : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ASYMFENCE_LIGHT_IS_COMPILER_BARRIER) {
      GTEST_SKIP() << "light() is not a bare compiler barrier in this build (checked light, "
                      "ThreadSanitizer, or a platform without an asymmetric mechanism)";
    }
    isa_ = target_instruction_set();
    if (isa_ == nullptr) GTEST_SKIP() << "the checker does not know this architecture";
    asymfence::test::child_result r = asymfence::test::run_program(
        ASYMFENCE_OBJDUMP, {"-d", "--no-show-raw-insn", ASYMFENCE_CODEGEN_OBJECT});
    ASSERT_TRUE(r.exited && r.code == 0) << ASYMFENCE_OBJDUMP << " failed: " << r.output;
    light_ = instructions_of(r.output, "asymfence_codegen_light");
    fence_ = instructions_of(r.output, "asymfence_codegen_fence");
    std::printf("[ codegen  ] %s, light():%s\n[ codegen  ] control:%s\n", isa_->name,
                joined(light_).c_str(), joined(fence_).c_str());
  }

  const instruction_set* isa_ = nullptr;
  std::vector<std::string> light_;
  std::vector<std::string> fence_;
};

TEST_F(Codegen, LightIsOnlyAReturn) {
  EXPECT_TRUE(is_only_return(light_, *isa_)) << "light() compiled to:" << joined(light_);
  EXPECT_FALSE(has_fence(light_, *isa_));
}

TEST_F(Codegen, CheckerFlagsTheFenceControl) {
  EXPECT_TRUE(has_fence(fence_, *isa_)) << "the control compiled to:" << joined(fence_);
  EXPECT_FALSE(is_only_return(fence_, *isa_)) << "the checker would pass a fence";
}

}  // namespace
