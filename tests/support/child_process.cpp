// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "child_process.hpp"

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace asymfence::test {
namespace {

child_result collect(pid_t pid, int read_end, int timeout_seconds) {
  child_result result;
  std::time_t deadline = std::time(nullptr) + timeout_seconds;
  char buffer[4096];
  for (;;) {
    pollfd p{read_end, POLLIN, 0};
    int ready = ::poll(&p, 1, 200);
    if (ready > 0) {
      ssize_t n = ::read(read_end, buffer, sizeof buffer);
      if (n <= 0) break;
      result.output.append(buffer, static_cast<std::size_t>(n));
    }
    if (std::time(nullptr) > deadline) {
      ::kill(pid, SIGKILL);
      result.output += "\n[test support: child killed after timeout]\n";
      break;
    }
  }
  ::close(read_end);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  result.exited = WIFEXITED(status);
  result.code = result.exited ? WEXITSTATUS(status) : -1;
  result.signaled = WIFSIGNALED(status);
  result.signal = result.signaled ? WTERMSIG(status) : 0;
  return result;
}

template <typename ChildBody>
child_result fork_with_output(ChildBody child_body, int timeout_seconds) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[1]);
    child_body();
    ::_exit(127);
  }
  ::close(fds[1]);
  return collect(pid, fds[0], timeout_seconds);
}

}  // namespace

child_result run_in_child(const std::function<int()>& body, int timeout_seconds) {
  return fork_with_output([&] { ::_exit(body()); }, timeout_seconds);
}

child_result run_program(const std::string& path, const std::vector<std::string>& args,
                         const std::vector<std::string>& environment,
                         const std::function<void()>& before_exec, int timeout_seconds) {
  return fork_with_output(
      [&] {
        for (const std::string& e : environment) ::putenv(const_cast<char*>(e.c_str()));
        if (before_exec) before_exec();
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(path.c_str()));
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(path.c_str(), argv.data());
      },
      timeout_seconds);
}

}  // namespace asymfence::test
