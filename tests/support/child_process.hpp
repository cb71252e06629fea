// SPDX-License-Identifier: Apache-2.0 OR MIT
// Runs a piece of a test in a forked child, for what must not touch the test
// process itself: a seccomp filter, a forced strategy, an expected stop.
#ifndef ASYMFENCE_TESTS_SUPPORT_CHILD_PROCESS_HPP
#define ASYMFENCE_TESTS_SUPPORT_CHILD_PROCESS_HPP

#include <functional>
#include <string>
#include <vector>

namespace asymfence::test {

struct child_result {
  bool exited = false;     // ended with exit(); code is its status
  int code = -1;
  bool signaled = false;   // killed by a signal (abort() gives SIGABRT)
  int signal = 0;
  std::string output;      // everything it wrote to stdout and stderr
};

// Forks; the child runs body() and exits with its return value. Output is
// captured. Gives up (SIGKILL) after timeout_seconds.
child_result run_in_child(const std::function<int()>& body, int timeout_seconds = 120);

// Runs a program with arguments and extra environment ("NAME=value"), after
// optionally calling before_exec() in the child (to install a seccomp filter).
child_result run_program(const std::string& path, const std::vector<std::string>& args,
                         const std::vector<std::string>& environment = {},
                         const std::function<void()>& before_exec = {},
                         int timeout_seconds = 300);

}  // namespace asymfence::test

#endif
