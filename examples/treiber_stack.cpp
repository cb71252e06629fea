// SPDX-License-Identifier: Apache-2.0 OR MIT
// A lock-free stack (Treiber) whose pop protects the head with a hazard
// pointer, so a popped node is freed only when no other pop still reads it.
// Threads push and pop; every value pushed must be popped exactly once. The
// same work runs on a stack under std::mutex, and both throughputs are
// printed side by side (speed is reported, never judged).
#include <asymfence/hazard_pointer.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace {

class hazard_stack {
 public:
  ~hazard_stack() {
    while (pop(nullptr)) {
    }
  }
  void push(std::uint64_t v) {
    node* n = new node(v);
    n->next = head_.load(std::memory_order_relaxed);
    while (!head_.compare_exchange_weak(n->next, n, std::memory_order_release,
                                        std::memory_order_relaxed)) {
    }
  }
  // The hazard pointer keeps `top` alive while its next field is read and
  // the compare-exchange runs; without it another pop could free it (and a
  // push could reuse its address: the ABA problem).
  bool pop(std::uint64_t* out) {
    asymfence::hazard_pointer& hp = hazard_pointer_of_this_thread();
    for (;;) {
      node* top = hp.protect(head_);
      if (top == nullptr) return false;
      node* next = top->next;
      if (head_.compare_exchange_weak(top, next, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
        hp.reset_protection();
        if (out != nullptr) *out = top->value;
        top->retire();
        return true;
      }
    }
  }

 private:
  struct node : asymfence::hazard_pointer_obj_base<node> {
    explicit node(std::uint64_t v) : value(v) {}
    std::uint64_t value;
    node* next = nullptr;
  };
  static asymfence::hazard_pointer& hazard_pointer_of_this_thread() {
    thread_local asymfence::hazard_pointer hp = asymfence::make_hazard_pointer();
    return hp;
  }
  std::atomic<node*> head_{nullptr};
};

class mutex_stack {
 public:
  ~mutex_stack() {
    while (pop(nullptr)) {
    }
  }
  void push(std::uint64_t v) {
    node* n = new node{v, nullptr};
    std::lock_guard<std::mutex> lock(m_);
    n->next = head_;
    head_ = n;
  }
  bool pop(std::uint64_t* out) {
    node* top;
    {
      std::lock_guard<std::mutex> lock(m_);
      top = head_;
      if (top == nullptr) return false;
      head_ = top->next;
    }
    if (out != nullptr) *out = top->value;
    delete top;
    return true;
  }

 private:
  struct node {
    std::uint64_t value;
    node* next;
  };
  std::mutex m_;
  node* head_ = nullptr;
};

struct result {
  double ops_per_second;
  bool exact;  // every value popped exactly once
};

// Each thread pushes its own values and pops as often; what is left after
// the threads stop is drained. The sums of pushed and popped values match
// only if no value is lost or popped twice.
template <class Stack>
result run(int threads, std::uint64_t per_thread) {
  Stack stack;
  std::atomic<std::uint64_t> popped_sum{0};
  std::atomic<std::uint64_t> popped_count{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::uint64_t sum = 0;
      std::uint64_t count = 0;
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        stack.push(static_cast<std::uint64_t>(t) * per_thread + i + 1);
        std::uint64_t v = 0;
        if (stack.pop(&v)) {
          sum += v;
          ++count;
        }
      }
      popped_sum += sum;
      popped_count += count;
    });
  }
  for (auto& t : pool) t.join();
  const std::chrono::duration<double> spent = std::chrono::steady_clock::now() - start;
  std::uint64_t v = 0;
  while (stack.pop(&v)) {
    popped_sum += v;
    ++popped_count;
  }
  const std::uint64_t n = static_cast<std::uint64_t>(threads) * per_thread;
  const bool exact = popped_count == n && popped_sum == n * (n + 1) / 2;
  return {2.0 * static_cast<double>(n) / spent.count(), exact};
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t per_thread = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
  const int threads = 2;
  const result lock_free = run<hazard_stack>(threads, per_thread);
  const result locked = run<mutex_stack>(threads, per_thread);
  asymfence::hazard_pointer_clean_up();
  std::printf("Treiber stack, %d threads each pushing and popping %llu values:\n", threads,
              static_cast<unsigned long long>(per_thread));
  std::printf("  hazard pointers: %.2f M ops/s%s\n", lock_free.ops_per_second / 1e6,
              lock_free.exact ? "" : "  VALUES LOST OR DUPLICATED");
  std::printf("  std::mutex:      %.2f M ops/s%s\n", locked.ops_per_second / 1e6,
              locked.exact ? "" : "  VALUES LOST OR DUPLICATED");
  std::printf("  hazard pointers / std::mutex: %.2f\n",
              lock_free.ops_per_second / locked.ops_per_second);
  return lock_free.exact && locked.exact ? 0 : 1;
}
