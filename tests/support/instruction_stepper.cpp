// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "instruction_stepper.hpp"

#if defined(__x86_64__) && defined(__linux__)
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <csetjmp>
#include <csignal>
#endif

namespace asymfence::test {

#if defined(__x86_64__) && defined(__linux__)
namespace {

constexpr unsigned long long trap_flag = 0x100;
// A runaway body (an endless loop under the trap flag) stops being stepped.
constexpr long step_limit = 5'000'000;

const stepping_plan* active = nullptr;
stepping_result result;
volatile sig_atomic_t stepping = 0;
sigjmp_buf child_entry;
long child_step = 0;

pid_t fork_without_handlers() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  return _Fork();
#else
  return fork();
#endif
}

void on_trap(int, siginfo_t*, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  if (stepping == 0 || result.steps >= step_limit) {
    uc->uc_mcontext.gregs[REG_EFL] &= ~trap_flag;
    return;
  }
  const long step = ++result.steps;
  if (!active->fork_here(step)) return;
  child_step = step;
  const pid_t pid = active->run_fork_handlers ? fork() : fork_without_handlers();
  if (pid == 0) siglongjmp(child_entry, 1);  // the child leaves the stepped code for good
  if (pid < 0) {
    ++result.failed_forks;
    return;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ++result.children;
}

}  // namespace

stepping_result fork_at_steps(const stepping_plan& plan) {
  active = &plan;
  result = stepping_result{};
  result.supported = true;
  struct sigaction action {};
  struct sigaction previous {};
  action.sa_sigaction = on_trap;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTRAP, &action, &previous);
  if (sigsetjmp(child_entry, 1) != 0) {
    plan.in_child(child_step);
    _exit(127);  // in_child must not return
  }
  stepping = 1;
  asm volatile("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq" ::: "cc", "memory");
  plan.body();
  stepping = 0;  // the next trap clears the flag
  asm volatile("" ::: "memory");
  sigaction(SIGTRAP, &previous, nullptr);
  return result;
}
void* memory_shared_with_children(unsigned long bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}
#else
stepping_result fork_at_steps(const stepping_plan&) { return {}; }
void* memory_shared_with_children(unsigned long) { return nullptr; }
#endif

}  // namespace asymfence::test
