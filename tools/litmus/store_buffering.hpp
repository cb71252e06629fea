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

// Pins the calling thread to the n-th CPU it may run on; false if it cannot
// (also for harnesses that line up more than two threads).
bool pin_to_nth_allowed_cpu(int n) noexcept;

// Barriers for the two sides.
void compiler_barrier() noexcept;  // what the light side is in the default build
void seq_cst_fence() noexcept;     // the control's "heavy" side: must show violations vs light
void light_barrier() noexcept;     // asymfence::light()
void heavy_barrier() noexcept;     // asymfence::heavy()

// The control: light against a plain seq_cst fence must show forbidden
// outcomes, or the test cannot tell a working barrier from none. Retries up to
// `attempts` runs; returns the last run (forbidden > 0 on success).
outcome run_control(std::uint64_t iterations, int attempts = 5) noexcept;

}  // namespace asymfence::litmus

#endif
