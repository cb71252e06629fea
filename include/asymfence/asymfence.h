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

#include <stdint.h>

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

/* The polling form of asymfence_heavy() (asymfence::start_heavy() and
   heavy_completed() in asymfence.hpp): asymfence_start_heavy() records the
   arrival and returns a ticket; asymfence_heavy_completed(ticket) returns 1
   once a barrier that began after that arrival has completed (the guarantee
   of asymfence_heavy() from then on), 0 while it has not. Neither waits
   behind another caller's barrier. */
ASYMFENCE_API uint64_t asymfence_start_heavy(void);
ASYMFENCE_API int asymfence_heavy_completed(uint64_t ticket);

/* asymfence_heavy(), asymfence_try_heavy() and the polling pair may be called
   from signal handlers once selection has completed; see asymfence.hpp
   ("Async-signal safety") for what holds per strategy. */

/* Selects the strategy and registers with the kernel now. Returns 0 on
   success, otherwise a positive errno-style code; asymfence_init_message()
   then says why no sound strategy exists. */
ASYMFENCE_API int asymfence_init(void);
ASYMFENCE_API const char* asymfence_init_message(void);

/* asymfence_init() after a run-time switch reports success: the strategy in
   force is the one asymfence_strategy_name() names. */

/* The name of the strategy in force ("membarrier_private_expedited", ...),
   or "none" when no sound strategy exists. */
ASYMFENCE_API const char* asymfence_strategy_name(void);

#ifdef __cplusplus
}
#endif

#endif
