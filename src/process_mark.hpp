// SPDX-License-Identifier: Apache-2.0 OR MIT
// Telling work that this process started from work copied from the process
// it was forked from. A child made by fork(), _Fork(), the fork system call
// or a clone() without CLONE_VM starts with a copy of its parent's memory,
// taken while other threads of the parent may have been in the middle of
// something (leading a barrier, selecting the strategy) that no thread of the
// child will finish; pthread_atfork handlers run only for fork().
//
// So each such piece of work has a mark, which a process sets before it
// starts the work (before it publishes "in progress"). A thread that finds
// the work in progress, and the mark not set by its own process, knows that
// the work was copied from an ancestor and will never be finished; it may
// claim the mark (exactly one thread of the process succeeds) and take the
// work over.
//
// Where the kernel offers MADV_WIPEONFORK (Linux >= 4.14) the marks lie on a
// page that every child receives zeroed, and a check is a plain load.
// Elsewhere a mark holds the pid of the process that set it, and each check
// and each setting calls getpid(). Every function is async-signal-safe.
#ifndef ASYMFENCE_SRC_PROCESS_MARK_HPP
#define ASYMFENCE_SRC_PROCESS_MARK_HPP

namespace asymfence::detail {

enum class process_mark : int {
  selection = 0,       // selection.cpp: the strategy is being selected
  slow_path = 1,       // heavy.cpp: a barrier is in flight
  registry_first = 2,  // primitives/thread_registry.cpp: registry i's records
                       // are known to belong to this process (mark 2 + i)
};
inline constexpr int registry_marks = 16;
inline constexpr int process_mark_count = 2 + registry_marks;

// Whether this process has set the mark (false in a child forked from a
// process that set it, until the child sets its own).
bool set_by_this_process(process_mark mark) noexcept;

// Sets the mark for this process.
void set_for_this_process(process_mark mark) noexcept;

// Sets the mark if this process has not: true for the one caller that did.
bool claim_for_this_process(process_mark mark) noexcept;

}  // namespace asymfence::detail

#endif
