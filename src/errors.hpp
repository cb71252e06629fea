// SPDX-License-Identifier: Apache-2.0 OR MIT
// Errno names and the fatal stop shared by selection and the slow path.
#ifndef ASYMFENCE_SRC_ERRORS_HPP
#define ASYMFENCE_SRC_ERRORS_HPP

namespace asymfence::detail {

// "EPERM", "ENOSYS", ...; "errno 123" (in a static buffer) for others.
const char* errno_name(int error) noexcept;

// Writes "asymfence: <message>" and a newline to stderr in one write.
void report(const char* format, ...) noexcept
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

// Writes the message to stderr and stops the process (abort, so that a core
// dump or debugger shows where).
[[noreturn]] void stop(const char* format, ...) noexcept
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

}  // namespace asymfence::detail

#endif
