// SPDX-License-Identifier: Apache-2.0 OR MIT
/* Symbol visibility for the asymfence library (shared by the C and C++ APIs). */
#ifndef ASYMFENCE_EXPORT_H
#define ASYMFENCE_EXPORT_H

#include <asymfence/config.h>

#if ASYMFENCE_SHARED
#  if defined(_WIN32)
#    if defined(ASYMFENCE_BUILDING_LIBRARY)
#      define ASYMFENCE_API __declspec(dllexport)
#    else
#      define ASYMFENCE_API __declspec(dllimport)
#    endif
#  else
#    define ASYMFENCE_API __attribute__((visibility("default")))
#  endif
#else
#  define ASYMFENCE_API
#endif

/* ThreadSanitizer does not model standalone fences (and knows nothing of
   membarrier or IPIs), so under TSan both sides become real seq_cst fences. */
#if defined(__SANITIZE_THREAD__)
#  define ASYMFENCE_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define ASYMFENCE_TSAN 1
#  endif
#endif
#ifndef ASYMFENCE_TSAN
#  define ASYMFENCE_TSAN 0
#endif

/* Platforms where heavy() has a process-wide mechanism that needs no help from
   the light side; elsewhere both sides are seq_cst fences, chosen at compile time. */
#if defined(__linux__) || defined(_WIN32)
#  define ASYMFENCE_HAS_ASYMMETRIC_MECHANISM 1
#else
#  define ASYMFENCE_HAS_ASYMMETRIC_MECHANISM 0
#endif

/* 1 when light() is only a compiler barrier in this translation unit. */
#if ASYMFENCE_HAS_ASYMMETRIC_MECHANISM && !ASYMFENCE_CHECKED_LIGHT && !ASYMFENCE_TSAN
#  define ASYMFENCE_LIGHT_IS_COMPILER_BARRIER 1
#else
#  define ASYMFENCE_LIGHT_IS_COMPILER_BARRIER 0
#endif

/* The thread-local pointer through which an inline read side (RCU, the
   read-mostly mutex) finds its thread's record. __thread: a constant
   initialiser, so no TLS wrapper call; initial-exec: one %fs-relative load
   even from position-independent code in another shared object, never a
   __tls_get_addr call (a program that dlopen()s the shared library needs
   glibc's static TLS reserve for these few pointers). */
#if defined(__GNUC__) || defined(__clang__)
#  define ASYMFENCE_READER_TLS __thread __attribute__((tls_model("initial-exec")))
#else
#  define ASYMFENCE_READER_TLS thread_local
#endif

#endif
