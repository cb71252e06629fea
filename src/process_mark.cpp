// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "process_mark.hpp"

#include <atomic>
#include <cstdint>
#include <new>

#include "testing.hpp"

#if !defined(_WIN32)
#include <unistd.h>
#endif
#if defined(__unix__)
#include <pthread.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#endif

namespace asymfence::detail {
namespace {

struct marks {
  std::atomic<std::uint32_t> word[process_mark_count];
};

// How this process tells its own marks: decided on first use, inherited by
// children with the rest of memory (the page stays mapped in them).
constexpr int mode_undecided = 0;
constexpr int mode_wiped_page = 1;  // marks on a MADV_WIPEONFORK page; set = 1
constexpr int mode_pid = 2;         // marks in pid_marks; set = getpid()
std::atomic<int> mode{mode_undecided};
std::atomic<marks*> wiped_page{nullptr};
marks pid_marks;

marks* map_wiped_page() noexcept {
#if defined(__linux__)
  void* p =
      ::mmap(nullptr, sizeof(marks), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  if (::madvise(p, sizeof(marks), MADV_WIPEONFORK) != 0) {  // EINVAL before Linux 4.14
    ::munmap(p, sizeof(marks));
    return nullptr;
  }
  return new (p) marks{};
#else
  return nullptr;
#endif
}

#if defined(__unix__)
// Where the kernel accepts MADV_WIPEONFORK but a layer below does not honour
// it (qemu-user answers success and ignores the advice), fork() children
// still start clean: this handler zeroes the page. Children made without the
// handlers then depend on the kernel alone.
void clear_wiped_page_in_child() noexcept {
  if (marks* page = wiped_page.load(std::memory_order_acquire)) {
    for (std::atomic<std::uint32_t>& w : page->word) w.store(0, std::memory_order_relaxed);
  }
}
#endif

int decided_mode() noexcept {
  int m = mode.load(std::memory_order_acquire);
  if (m != mode_undecided) return m;
  marks* page = map_wiped_page();
  marks* none = nullptr;
  if (page != nullptr &&
      !wiped_page.compare_exchange_strong(none, page, std::memory_order_acq_rel)) {
#if defined(__linux__)
    ::munmap(page, sizeof(marks));  // another thread mapped one first
#endif
  }
  int wanted = page != nullptr ? mode_wiped_page : mode_pid;
  if (!mode.compare_exchange_strong(m, wanted, std::memory_order_acq_rel)) return m;
#if defined(__unix__)
  if (wanted == mode_wiped_page) pthread_atfork(nullptr, nullptr, clear_wiped_page_in_child);
#endif
  return wanted;
}

std::atomic<std::uint32_t>& word_of(process_mark mark, int m) noexcept {
  marks* in = m == mode_wiped_page ? wiped_page.load(std::memory_order_acquire) : &pid_marks;
  return in->word[static_cast<int>(mark)];
}

std::uint32_t this_process(int m) noexcept {
#if defined(_WIN32)
  (void)m;
  return 1;  // no fork
#else
  return m == mode_wiped_page ? 1u : static_cast<std::uint32_t>(::getpid());
#endif
}

}  // namespace

bool set_by_this_process(process_mark mark) noexcept {
  const int m = decided_mode();
  return word_of(mark, m).load(std::memory_order_acquire) == this_process(m);
}

void set_for_this_process(process_mark mark) noexcept {
  const int m = decided_mode();
  std::atomic<std::uint32_t>& word = word_of(mark, m);
  const std::uint32_t mine = this_process(m);
  if (word.load(std::memory_order_relaxed) != mine) word.store(mine, std::memory_order_relaxed);
}

bool claim_for_this_process(process_mark mark) noexcept {
  const int m = decided_mode();
  std::atomic<std::uint32_t>& word = word_of(mark, m);
  const std::uint32_t mine = this_process(m);
  std::uint32_t seen = word.load(std::memory_order_acquire);
  return seen != mine && word.compare_exchange_strong(seen, mine, std::memory_order_acq_rel);
}

void use_pid_marks_for_testing() noexcept {
  for (std::atomic<std::uint32_t>& w : pid_marks.word) w.store(0, std::memory_order_relaxed);
  mode.store(mode_pid, std::memory_order_release);
}

}  // namespace asymfence::detail
