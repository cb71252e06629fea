// SPDX-License-Identifier: Apache-2.0 OR MIT
// Compiled at -O2 for the code-generation test: what light() costs a caller.
#include <asymfence/asymfence.hpp>

#include <atomic>

// Must compile to nothing but a return in the default build.
extern "C" void asymfence_codegen_light() { asymfence::light(); }

// The control: a real fence, which the checker must flag.
extern "C" void asymfence_codegen_fence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
