// SPDX-License-Identifier: Apache-2.0 OR MIT
// RCU: the C++26 interface (built as C++17 and as C++20), grace periods that
// wait for earlier readers and only for them, reclamation, fork, misuse.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <asymfence/rcu.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "child_process.hpp"
#include "emulator.hpp"
#include "primitives/rcu_testing.hpp"

namespace {

using namespace std::chrono_literals;

std::atomic<int> live_widgets{0};

struct widget : asymfence::rcu_obj_base<widget> {
  widget() { live_widgets.fetch_add(1); }
  ~widget() { live_widgets.fetch_sub(1); }
  int value = 7;
};

struct counting_deleter {
  explicit counting_deleter(std::atomic<int>* c) noexcept : calls(c) {}
  std::atomic<int>* calls;
  template <class T>
  void operator()(T* p) const noexcept {
    calls->fetch_add(1);
    delete p;
  }
};
struct custom : asymfence::rcu_obj_base<custom, counting_deleter> {};
static_assert(!std::is_default_constructible_v<counting_deleter>);

TEST(Rcu, DomainIsLockableAndSectionsNest) {
  asymfence::rcu_domain& dom = asymfence::rcu_default_domain();
  EXPECT_EQ(&dom, &asymfence::rcu_default_domain());
  static_assert(!std::is_copy_constructible_v<asymfence::rcu_domain>);
  static_assert(!std::is_copy_assignable_v<asymfence::rcu_domain>);
  {
    std::scoped_lock outer(dom);
    {
      std::scoped_lock inner(dom);  // nesting
      EXPECT_TRUE(dom.try_lock());
      dom.unlock();
    }
    std::unique_lock<asymfence::rcu_domain> again(dom);
  }
  const auto* r = asymfence::detail::rcu_this_reader;
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->nesting, 0u);
  EXPECT_EQ(r->counter.load() % 2, 0u) << "outside every section the counter is even";
  dom.lock();
  EXPECT_EQ(r->counter.load() % 2, 1u);
  dom.lock();
  const auto inside = r->counter.load();
  dom.unlock();
  EXPECT_EQ(r->counter.load(), inside) << "an inner unlock leaves the section open";
  dom.unlock();
  EXPECT_EQ(r->counter.load() % 2, 0u);
}

TEST(Rcu, RetireRunsDeletersAfterBarrierEvenInsideSection) {
  const int before = live_widgets.load();
  asymfence::rcu_domain& dom = asymfence::rcu_default_domain();
  {
    std::scoped_lock guard(dom);
    for (int i = 0; i < 100; ++i) (new widget)->retire();  // retire inside a read section
  }
  asymfence::rcu_barrier();
  EXPECT_EQ(live_widgets.load(), before);

  std::atomic<int> calls{0};
  auto* c = new custom;
  c->retire(counting_deleter(&calls));
  std::atomic<int> ints{0};
  asymfence::rcu_retire(new int(5), [&ints](int* p) {
    ints.fetch_add(*p);
    delete p;
  });
  asymfence::rcu_retire(new widget);  // std::default_delete
  asymfence::rcu_barrier();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(ints.load(), 5);
  EXPECT_EQ(live_widgets.load(), before);
}

// A thread that enters a read section and stays inside until release():
// the earlier reader that grace periods must wait for. `in_section` runs
// inside the section just before it ends.
class reader_inside {
 public:
  explicit reader_inside(std::function<void()> in_section = {})
      : thread_([this, in_section] {
          asymfence::rcu_domain& dom = asymfence::rcu_default_domain();
          dom.lock();
          inside_.store(true);
          while (!released_.load()) std::this_thread::yield();
          if (in_section) in_section();
          dom.unlock();
        }) {
    while (!inside_.load()) std::this_thread::yield();
  }
  ~reader_inside() { release(); }
  void release() {
    released_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> inside_{false}, released_{false};
  std::thread thread_;
};

// A reader inside its section when rcu_synchronize starts: the call must not
// return before the reader's unlock (the release/acquire makes the flag set
// before unlock visible after the return).
TEST(Rcu, SynchronizeWaitsForEarlierReader) {
  for (int round = 0; round < 5; ++round) {
    std::atomic<bool> synchronized{false};
    bool reader_finished = false;  // plain: ordered only by the grace period
    reader_inside reader([&] { reader_finished = true; });
    std::thread updater([&] {
      asymfence::rcu_synchronize();
      EXPECT_TRUE(reader_finished) << "rcu_synchronize returned inside an earlier read section";
      synchronized.store(true);
    });
    std::this_thread::sleep_for(20ms);
    EXPECT_FALSE(synchronized.load()) << "returned while the earlier reader was still inside";
    reader.release();
    updater.join();
  }
}

// Two readers hand over so that one of them is always inside a section;
// grace periods must still complete (they wait only for earlier sections).
TEST(Rcu, GracePeriodsCompleteWhileSectionsOverlap) {
  std::atomic<int> turn{0};  // whose section may end next: the other is inside
  std::atomic<bool> stop{false};
  std::atomic<int> inside{0};
  std::atomic<int> min_inside{2};
  std::atomic<long> handovers{0};
  auto reader = [&](int me) {
    asymfence::rcu_domain& dom = asymfence::rcu_default_domain();
    dom.lock();
    inside.fetch_add(1);
    while (!stop.load()) {
      if (turn.load() != me) {
        std::this_thread::yield();
        continue;
      }
      // The other reader is inside (it handed the turn over from inside).
      inside.fetch_sub(1);
      dom.unlock();
      dom.lock();
      inside.fetch_add(1);
      handovers.fetch_add(1);
      turn.store(1 - me);
    }
    inside.fetch_sub(1);
    dom.unlock();
  };
  std::thread a(reader, 0), b(reader, 1);
  while (inside.load() < 2) std::this_thread::yield();
  const std::uint64_t gp_before = asymfence::detail::rcu_grace_periods_for_testing();
  const long handovers_before = handovers.load();
  for (int i = 0; i < 200; ++i) {
    asymfence::rcu_synchronize();
    int seen = inside.load();
    int low = min_inside.load();
    while (seen < low && !min_inside.compare_exchange_weak(low, seen)) {
    }
  }
  const long handovers_during = handovers.load() - handovers_before;
  stop.store(true);
  a.join();
  b.join();
  EXPECT_GE(asymfence::detail::rcu_grace_periods_for_testing() - gp_before, 200u);
  EXPECT_GT(handovers_during, 0) << "the readers never handed over: no overlap was tested";
  EXPECT_GE(min_inside.load(), 1) << "at some point no reader was inside";
  std::printf("[ rcu      ] 200 grace periods while %ld handovers kept a reader inside\n",
              handovers_during);
}

TEST(Rcu, PollingWaitsForEarlierReaderWithoutBlocking) {
  reader_inside reader;
  const asymfence::rcu_ticket ticket = asymfence::start_rcu_grace_period();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(asymfence::rcu_grace_period_elapsed(ticket))
        << "elapsed inside an earlier section";
  }
  reader.release();
  long polls = 0;
  while (!asymfence::rcu_grace_period_elapsed(ticket)) {
    ++polls;
    std::this_thread::yield();
  }
  EXPECT_TRUE(asymfence::rcu_grace_period_elapsed(ticket)) << "a ticket stays elapsed";
  // A ticket taken with no reader inside elapses by polling alone.
  const asymfence::rcu_ticket quiet = asymfence::start_rcu_grace_period();
  while (!asymfence::rcu_grace_period_elapsed(quiet)) std::this_thread::yield();
}

TEST(Rcu, ForkedChildWorksWhileParentReaderIsInside) {
  ASYMFENCE_SKIP_UNDER_EMULATOR("qemu-user aborts when a child of a multi-threaded fork starts a thread");
  if (ASYMFENCE_TSAN) {
    GTEST_SKIP() << "ThreadSanitizer cannot start threads in the child of a multi-threaded fork";
  }
#if defined(__SANITIZE_ADDRESS__)
  // Seen: the parent's reclamation thread held AddressSanitizer's allocator
  // lock (quarantine) at the fork, and the child's first allocation waited on
  // it for ever; glibc's own malloc is reset in the child, ASan's is not.
  GTEST_SKIP() << "AddressSanitizer's allocator lock may be held by another thread at fork()";
#endif
  reader_inside reader;
  (new widget)->retire();  // the parent's helper thread exists now
  const auto child = asymfence::test::run_in_child(
      [] {
        asymfence::rcu_domain& dom = asymfence::rcu_default_domain();
        { std::scoped_lock guard(dom); }
        // Would wait forever for the parent's reader if its record survived.
        asymfence::rcu_synchronize();
        const int before = live_widgets.load();
        (new widget)->retire();
        asymfence::rcu_barrier();  // needs a helper thread in the child
        const asymfence::rcu_ticket t = asymfence::start_rcu_grace_period();
        while (!asymfence::rcu_grace_period_elapsed(t)) std::this_thread::yield();
        std::printf("child ok\n");
        std::fflush(stdout);
        return live_widgets.load() <= before ? 0 : 3;
      },
      60);
  reader.release();
  asymfence::rcu_barrier();
  EXPECT_TRUE(child.exited) << child.output;
  EXPECT_EQ(child.code, 0) << child.output;
  EXPECT_NE(child.output.find("child ok"), std::string::npos) << child.output;
}

TEST(Rcu, ThreadEndingInsideSectionStops) {
  if (ASYMFENCE_TSAN) {
    GTEST_SKIP() << "ThreadSanitizer cannot start threads in the child of a multi-threaded fork";
  }
  const auto child = asymfence::test::run_in_child(
      [] {
        std::thread([] { asymfence::rcu_default_domain().lock(); }).join();
        return 0;
      },
      60);
  EXPECT_TRUE(child.signaled && child.signal == SIGABRT) << child.output;
  EXPECT_NE(child.output.find("inside an RCU read section"), std::string::npos) << child.output;
}

TEST(Rcu, SynchronizeInsideSectionStops) {
  const auto child = asymfence::test::run_in_child(
      [] {
        asymfence::rcu_default_domain().lock();
        asymfence::rcu_synchronize();
        return 0;
      },
      60);
  EXPECT_TRUE(child.signaled && child.signal == SIGABRT) << child.output;
  EXPECT_NE(child.output.find("rcu_synchronize called inside"), std::string::npos) << child.output;
}

}  // namespace
