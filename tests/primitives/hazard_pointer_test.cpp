// SPDX-License-Identifier: Apache-2.0 OR MIT
// The hazard pointer interface ([saferecl.hp] names and semantics), built as
// C++17 and again as C++20 (where the std::span batch overloads exist).
#include <gtest/gtest.h>

#include <asymfence/hazard_pointer.hpp>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "primitives/hazard_pointer_testing.hpp"

namespace {

using asymfence::hazard_pointer;
using asymfence::hazard_pointer_clean_up;
using asymfence::make_hazard_pointer;

std::atomic<int> live{0};

struct node : asymfence::hazard_pointer_obj_base<node> {
  explicit node(int v) : value(v) { live.fetch_add(1); }
  ~node() { live.fetch_sub(1); }
  int value;
};

struct counting_deleter {
  std::atomic<int>* calls = nullptr;
  void operator()(struct custom* p) const noexcept;
};
struct custom : asymfence::hazard_pointer_obj_base<custom, counting_deleter> {
  int value = 7;
};
void counting_deleter::operator()(custom* p) const noexcept {
  calls->fetch_add(1);
  delete p;
}

// A base before hazard_pointer_obj_base: the object's address differs from
// the base's, and protections must still match.
struct padding {
  char bytes[24] = {};
  virtual ~padding() = default;
};
struct offset_node : padding, asymfence::hazard_pointer_obj_base<offset_node> {
  int value = 3;
};

TEST(HazardPointer, DefaultIsEmptyAndMadeIsNot) {
  hazard_pointer empty;
  EXPECT_TRUE(empty.empty());
  hazard_pointer hp = make_hazard_pointer();
  EXPECT_FALSE(hp.empty());
}

TEST(HazardPointer, MoveAndSwapTransferOwnership) {
  hazard_pointer a = make_hazard_pointer();
  hazard_pointer b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the standard says so
  EXPECT_FALSE(b.empty());
  a = std::move(b);
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  auto& self = a;
  a = std::move(self);
  EXPECT_FALSE(a.empty());
  swap(a, b);
  EXPECT_TRUE(a.empty());
  EXPECT_FALSE(b.empty());
  a.swap(b);
  EXPECT_FALSE(a.empty());
}

TEST(HazardPointer, ProtectedObjectOutlivesCleanUpUntilReset) {
  std::atomic<node*> src{new node(1)};
  hazard_pointer hp = make_hazard_pointer();
  node* p = hp.protect(src);
  ASSERT_EQ(p->value, 1);
  src.store(nullptr);
  const int before = live.load();
  p->retire();
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before) << "a protected object was reclaimed";
  EXPECT_EQ(p->value, 1);
  hp.reset_protection();
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before - 1) << "clean-up left an unprotected object retired";
}

TEST(HazardPointer, TryProtectFailsWhenTheSourceChanged) {
  node* a = new node(1);
  node* b = new node(2);
  std::atomic<node*> src{b};
  hazard_pointer hp = make_hazard_pointer();
  node* ptr = a;
  EXPECT_FALSE(hp.try_protect(ptr, src));
  EXPECT_EQ(ptr, b) << "try_protect must leave the reloaded value in ptr";
  EXPECT_TRUE(hp.try_protect(ptr, src));
  EXPECT_EQ(ptr, b);
  // After the failure nothing protects a; after the success b is protected.
  a->retire();
  src.store(nullptr);
  b->retire();
  const int before = live.load();
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before - 1);
  EXPECT_EQ(ptr->value, 2);
  hp.reset_protection(nullptr);
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before - 2);
}

TEST(HazardPointer, ResetProtectionWithAPointerProtectsIt) {
  node* a = new node(5);
  hazard_pointer hp = make_hazard_pointer();
  hp.reset_protection(a);  // happens before the retire below
  a->retire();
  const int before = live.load();
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before);
  hp.reset_protection(static_cast<const node*>(nullptr));
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before - 1);
}

TEST(HazardPointer, DestroyingTheHazardPointerEndsProtection) {
  std::atomic<node*> src{new node(1)};
  const int before = live.load();
  {
    hazard_pointer hp = make_hazard_pointer();
    node* p = hp.protect(src);
    src.store(nullptr);
    p->retire();
    hazard_pointer_clean_up();
    EXPECT_EQ(live.load(), before);
  }
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before - 1);
}

TEST(HazardPointer, CustomDeleterRunsOnceWithTheObject) {
  std::atomic<int> calls{0};
  auto* c = new custom();
  c->retire(counting_deleter{&calls});
  hazard_pointer_clean_up();
  EXPECT_EQ(calls.load(), 1);
}

TEST(HazardPointer, ProtectionMatchesObjectsWhoseBaseIsNotFirst) {
  auto* o = new offset_node();
  std::atomic<offset_node*> src{o};
  hazard_pointer hp = make_hazard_pointer();
  offset_node* p = hp.protect(src);
  src.store(nullptr);
  p->retire();
  hazard_pointer_clean_up();
  EXPECT_EQ(p->value, 3);  // ASan reports a use after free if it was reclaimed
  hp.reset_protection();
  hazard_pointer_clean_up();
}

struct chain : asymfence::hazard_pointer_obj_base<chain> {
  chain* next_to_retire = nullptr;
  ~chain() {
    live.fetch_sub(1);
    if (next_to_retire != nullptr) next_to_retire->retire();  // a deleter that retires
  }
  chain() { live.fetch_add(1); }
};

TEST(HazardPointer, DeletersMayRetireOtherObjects) {
  const int before = live.load();
  chain* first = new chain();
  chain* c = first;
  for (int i = 0; i < 10; ++i) c = c->next_to_retire = new chain();
  first->retire();
  for (int i = 0; i < 12 && live.load() != before; ++i) hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before);
}

TEST(HazardPointer, RetiringPastTheThresholdReclaimsWithoutCleanUp) {
  const int before = live.load();
  for (int i = 0; i < 5000; ++i) (new node(i))->retire();
  EXPECT_LT(live.load() - before, 5000) << "no scan ran during 5000 retires";
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before);
}

TEST(HazardPointer, BatchesMakeAndClearEveryOne) {
  hazard_pointer hps[20];
  asymfence::make_hazard_pointer_batch(hps, 20);
  for (auto& hp : hps) EXPECT_FALSE(hp.empty());
  asymfence::clear_hazard_pointer_batch(hps, 20);
  for (auto& hp : hps) EXPECT_TRUE(hp.empty());
  asymfence::make_hazard_pointer_batch(hps, 3);
  EXPECT_FALSE(hps[2].empty());
  EXPECT_TRUE(hps[3].empty());
#if __cplusplus >= 202002L
  asymfence::make_hazard_pointer_batch(std::span<hazard_pointer>(hps));
  for (auto& hp : hps) EXPECT_FALSE(hp.empty());
  asymfence::clear_hazard_pointer_batch(std::span<hazard_pointer>(hps));
  for (auto& hp : hps) EXPECT_TRUE(hp.empty());
  std::printf("[ c++20    ] span overloads exercised\n");
#endif
}

TEST(HazardPointer, ObjectsOfExitedThreadsAreReclaimedByCleanUp) {
  const int before = live.load();
  std::thread([] {
    for (int i = 0; i < 10; ++i) (new node(i))->retire();
  }).join();
  EXPECT_EQ(live.load(), before + 10);
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before);
}

TEST(HazardPointer, CleanUpRunsWhileAnotherThreadProtects) {
  std::atomic<node*> src{new node(9)};
  std::mutex m;
  std::condition_variable cv;
  bool protected_it = false;
  bool done = false;
  std::thread reader([&] {
    hazard_pointer hp = make_hazard_pointer();
    node* p = hp.protect(src);
    std::unique_lock<std::mutex> lock(m);
    protected_it = true;
    cv.notify_all();
    cv.wait(lock, [&] { return done; });
    EXPECT_EQ(p->value, 9);
  });
  {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return protected_it; });
  }
  node* old = src.exchange(nullptr);
  const int before = live.load();
  old->retire();
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before) << "reclaimed while another thread protects it";
  {
    std::lock_guard<std::mutex> lock(m);
    done = true;
  }
  cv.notify_all();
  reader.join();
  hazard_pointer_clean_up();
  EXPECT_EQ(live.load(), before - 1);
}

TEST(HazardPointer, GrowingAndShrinkingThreadPoolsReuseRecordsAndSlots) {
  auto round = [] {
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; ++t) {
      pool.emplace_back([] {
        hazard_pointer hps[3];
        asymfence::make_hazard_pointer_batch(hps, 3);
        std::atomic<node*> src{new node(1)};
        node* p = hps[0].protect(src);
        src.store(nullptr);
        p->retire();
      });
    }
    for (auto& t : pool) t.join();
  };
  round();
  const auto after_first = asymfence::detail::hazard_pointer_counts_for_testing();
  for (int i = 0; i < 50; ++i) round();
  const auto after_many = asymfence::detail::hazard_pointer_counts_for_testing();
  std::printf(
      "[ counts   ] after 1 round: %zu records, %zu slots; after 51: %zu records, %zu slots\n",
      after_first.records, after_first.slots, after_many.records, after_many.slots);
  // How many overlap in a round depends on scheduling; without reuse, 51
  // rounds would leave up to 204 records and 612 slots.
  constexpr std::size_t pool_threads = 4, hazard_pointers_each = 3;
  EXPECT_LE(after_many.records, pool_threads + 1) << "records leak when threads exit";
  EXPECT_LE(after_many.slots, pool_threads * hazard_pointers_each)
      << "slots leak when threads exit";
  hazard_pointer_clean_up();
}

TEST(HazardPointer, ForkedChildCanProtectRetireAndCleanUp) {
  // A parent thread holds a protection across the fork; the child has only
  // the forking thread and must still work.
  std::atomic<node*> held{new node(1)};
  std::mutex m;
  std::condition_variable cv;
  bool ready = false;
  bool done = false;
  std::thread holder([&] {
    hazard_pointer hp = make_hazard_pointer();
    hp.protect(held);
    for (int i = 0; i < 3; ++i) (new node(i))->retire();  // left on this thread's list
    std::unique_lock<std::mutex> lock(m);
    ready = true;
    cv.notify_all();
    cv.wait(lock, [&] { return done; });
  });
  {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return ready; });
  }
  const asymfence::test::child_result child = asymfence::test::run_in_child(
      [&] {
        const int before = live.load();
        std::atomic<node*> src{new node(2)};
        hazard_pointer hp = make_hazard_pointer();
        node* p = hp.protect(src);
        src.store(nullptr);
        p->retire();
        hazard_pointer_clean_up();
        if (live.load() != before + 1 - 3) return 2;  // the vanished thread's 3 reclaimed, p kept
        if (p->value != 2) return 3;
        hp.reset_protection();
        hazard_pointer_clean_up();
        if (live.load() != before - 3) return 4;
        std::printf("child: protect, retire and clean-up work\n");
        return 0;
      },
      60);
  {
    std::lock_guard<std::mutex> lock(m);
    done = true;
  }
  cv.notify_all();
  holder.join();
  EXPECT_TRUE(child.exited) << child.output;
  EXPECT_EQ(child.code, 0) << child.output;
  held.load()->retire();
  hazard_pointer_clean_up();
}

}  // namespace
