// SPDX-License-Identifier: Apache-2.0 OR MIT
// The store-buffering litmus test on real hardware, shared by the probe, the
// tests and the benchmarks.
//
// Two threads, pinned to two CPUs when there are two. In iteration i each
// stores i to its own variable, runs its barrier, and loads the other's
// variable; a spin barrier lines the threads up before every iteration. The
// outcome forbidden for a sound pair of barriers is "both loads saw less than
// i": each thread missed the other's store.
#ifndef ASYMFENCE_TOOLS_LITMUS_STORE_BUFFERING_HPP
#define ASYMFENCE_TOOLS_LITMUS_STORE_BUFFERING_HPP

#include <chrono>
#include <cstdint>

namespace asymfence::litmus {

using barrier_function = void (*)();

struct outcome {
  std::uint64_t iterations = 0;
  std::uint64_t forbidden = 0;  // iterations where both loads missed both stores
  bool pinned = false;          // both threads ran pinned to distinct CPUs
};

// Runs `iterations` rounds with `first` on one thread and `second` on the
// other. Stops early (with fewer iterations) once `time_limit_seconds` have
// passed, when that is above zero.
outcome run_store_buffering(std::uint64_t iterations, barrier_function first,
                            barrier_function second, double time_limit_seconds = 0) noexcept;

// The number of the n-th CPU the process may run on (Linux, Windows); -1 if
// there is none.
int nth_allowed_cpu(int n) noexcept;

// Pins the calling thread to the n-th CPU it may run on; false if it cannot
// (also for harnesses that line up more than two threads).
bool pin_to_nth_allowed_cpu(int n) noexcept;

// Barriers for the two sides.
void compiler_barrier() noexcept;  // what the light side is in the default build
void seq_cst_fence() noexcept;     // the control's "heavy" side: must show violations vs light
void light_barrier() noexcept;     // asymfence::light()
void heavy_barrier() noexcept;     // asymfence::heavy()

// How long a control may keep trying. On our virtual machines the host at
// times runs both vCPUs on one physical CPU; the reordering then shows only in
// the moments when both run at once (about 1 in 100,000 rounds instead of 1 in
// 100), so a fixed number of attempts can miss it while minutes cannot.
inline constexpr double control_patience_seconds = 180;

// Repeats `attempt()` (which returns a result with a `forbidden` count) until
// it shows a forbidden outcome or `max_seconds` have passed; returns the last
// result and stores the number of attempts made.
template <typename Attempt>
auto repeat_until_forbidden(Attempt&& attempt, double max_seconds, int* attempts_made = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  int made = 0;
  for (;;) {
    auto result = attempt();
    ++made;
    const std::chrono::duration<double> spent = std::chrono::steady_clock::now() - start;
    if (result.forbidden > 0 || spent.count() >= max_seconds) {
      if (attempts_made != nullptr) *attempts_made = made;
      return result;
    }
  }
}

// The control: light against a plain seq_cst fence must show forbidden
// outcomes, or the test cannot tell a working barrier from none. Repeats runs
// of `iterations` for up to `max_seconds`; returns the last run (forbidden > 0
// on success).
outcome run_control(std::uint64_t iterations,
                    double max_seconds = control_patience_seconds) noexcept;

}  // namespace asymfence::litmus

#endif
