// SPDX-License-Identifier: Apache-2.0 OR MIT
// RCU's read side must have no read-modify-write, no fence and no call on its
// common path: lock() and unlock() compiled at -O2 are checked in objdump's
// listing (x86: no lock prefix, no mfence, and the only call is the first-use
// registration). The checker is shown to work on a control unlock that uses
// fetch_add, which it must flag.
#include <gtest/gtest.h>

#include <asymfence/rcu.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "child_process.hpp"

namespace {

// Instructions of `function` in `objdump -dr --no-show-raw-insn` output
// (relocation lines included, so calls show their target's name).
std::vector<std::string> body_of(const std::string& listing, const std::string& function) {
  std::vector<std::string> body;
  std::istringstream in(listing);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.find("<" + function + ">:") != std::string::npos) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.empty()) break;
    body.push_back(line);
  }
  return body;
}

// The offending instructions: lock-prefixed, xchg with memory, fences, and
// calls to anything but the first-use registration.
std::vector<std::string> offences(const std::vector<std::string>& body) {
  std::vector<std::string> bad;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const std::string& line = body[i];
    const bool call = line.find("\tcall") != std::string::npos;
    const std::string next = i + 1 < body.size() ? body[i + 1] : "";
    if (line.find("\tlock ") != std::string::npos || line.find("\tmfence") != std::string::npos ||
        line.find("\txchg") != std::string::npos ||
        (call && line.find("rcu_register_reader") == std::string::npos &&
         next.find("rcu_register_reader") == std::string::npos)) {
      bad.push_back(line);
    }
  }
  return bad;
}

TEST(RcuCodegen, ReadSideHasNoAtomicNoFenceNoCall) {
#if !(defined(__x86_64__) && ASYMFENCE_LIGHT_IS_COMPILER_BARRIER)
  GTEST_SKIP() << "checked on x86-64 with light() a compiler barrier only";
#endif
  const auto r = asymfence::test::run_program(
      ASYMFENCE_OBJDUMP, {"-dr", "--no-show-raw-insn", ASYMFENCE_CODEGEN_OBJECT});
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  for (const char* f : {"asymfence_codegen_rcu_lock", "asymfence_codegen_rcu_unlock"}) {
    const std::vector<std::string> body = body_of(r.output, f);
    ASSERT_FALSE(body.empty()) << f << " not found in the listing";
    std::string text;
    for (const auto& l : body) text += l + "\n";
    std::printf("[ codegen  ] %s: %zu lines\n%s", f, body.size(), text.c_str());
    EXPECT_TRUE(offences(body).empty()) << f << ":\n" << text;
  }
  const std::vector<std::string> control = body_of(r.output, "asymfence_codegen_rcu_rmw_unlock");
  ASSERT_FALSE(control.empty());
  EXPECT_FALSE(offences(control).empty()) << "the checker did not flag a fetch_add";
}

}  // namespace
