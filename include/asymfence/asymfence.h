/* SPDX-License-Identifier: Apache-2.0 OR MIT */
/* asymfence C API: process-wide (asymmetric) memory barriers. Valid C99.
 *
 * Memory ordering: asymfence_light() on one thread and asymfence_heavy() on
 * another are ordered as if both were seq_cst fences (atomic_thread_fence(
 * memory_order_seq_cst)); two light barriers promise nothing between
 * themselves. See asymfence.hpp for the full contract. */
#ifndef ASYMFENCE_ASYMFENCE_H
#define ASYMFENCE_ASYMFENCE_H

#include <asymfence/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The light barrier (the hot path): no instruction in the default build on
   Linux and Windows. */
ASYMFENCE_API void asymfence_light(void);

/* The heavy barrier: forces every running thread of the process through a
   memory barrier. Stops the process with a message if no sound mechanism is
   left; never degrades silently. */
ASYMFENCE_API void asymfence_heavy(void);

/* Like asymfence_heavy(), but returns 0 at once (no ordering promised) instead
   of waiting behind another caller's barrier; 1 when a barrier completed. */
ASYMFENCE_API int asymfence_try_heavy(void);

/* Selects the strategy and registers with the kernel now. Returns 0 on
   success, otherwise a positive errno-style code; asymfence_init_message()
   then says why no sound strategy exists. */
ASYMFENCE_API int asymfence_init(void);
ASYMFENCE_API const char* asymfence_init_message(void);

/* The name of the strategy in force ("membarrier_private_expedited", ...),
   or "none" when no sound strategy exists. */
ASYMFENCE_API const char* asymfence_strategy_name(void);

#ifdef __cplusplus
}
#endif

#endif
