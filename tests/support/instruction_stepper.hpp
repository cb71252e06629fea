// SPDX-License-Identifier: Apache-2.0 OR MIT
// Forks a child at chosen instruction boundaries of a piece of code, to test
// what a child forked at any point of it would see: the code runs with the
// x86 trap flag set, so the CPU stops after every instruction (SIGTRAP), and
// the handler forks there. The child leaves the handler for `in_child`, which
// must end the child; the parent waits for it and steps on. This is the
// deterministic form of "a child forked by another thread between two
// stores": the child gets the memory of that instant.
//
// x86-64 Linux only. Prime lazily bound functions (call them once) before
// stepping code that calls them for the first time, or the dynamic linker's
// resolution is stepped too.
#ifndef ASYMFENCE_TESTS_SUPPORT_INSTRUCTION_STEPPER_HPP
#define ASYMFENCE_TESTS_SUPPORT_INSTRUCTION_STEPPER_HPP

namespace asymfence::test {

struct stepping_plan {
  void (*body)() = nullptr;                // the code to step through
  bool (*fork_here)(long step) = nullptr;  // whether to fork after instruction `step`
  void (*in_child)(long step) = nullptr;   // runs in the child; must not return
  bool run_fork_handlers = false;          // fork() (pthread_atfork handlers run) or _Fork()
};

struct stepping_result {
  bool supported = false;  // false: not x86-64 Linux, nothing was run
  long steps = 0;          // instructions stepped (stops once body returns)
  long children = 0;       // children forked and waited for
  long failed_forks = 0;
};

stepping_result fork_at_steps(const stepping_plan& plan);

// Zeroed memory that the children share with the parent, for what each child
// saw; nullptr if it cannot be mapped. Never unmapped.
void* memory_shared_with_children(unsigned long bytes);

template <typename Record>
Record* records_shared_with_children(long count) {
  return static_cast<Record*>(memory_shared_with_children(sizeof(Record) * count));
}

}  // namespace asymfence::test

#endif
