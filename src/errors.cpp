// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "errors.hpp"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "mechanism.hpp"

#if !defined(_WIN32)
#include <unistd.h>
#endif

namespace asymfence::detail {
namespace {

void vreport(const char* format, va_list args) noexcept {
  char line[1024];
  int prefix = std::snprintf(line, sizeof line, "asymfence: ");
  int body = std::vsnprintf(line + prefix, sizeof line - prefix - 1, format, args);
  std::size_t len = prefix + (body < 0 ? 0 : body);
  if (len > sizeof line - 2) len = sizeof line - 2;
  line[len] = '\n';
  line[len + 1] = '\0';
#if defined(_WIN32)
  std::fputs(line, stderr);
  std::fflush(stderr);
#else
  // write(2), not stdio: a stop may come from a signal handler that
  // interrupted a thread holding the stderr lock.
  (void)!::write(STDERR_FILENO, line, len + 1);
#endif
}

}  // namespace

const char* errno_name(int error) noexcept {
  switch (error) {
    case EPERM:
      return "EPERM";
    case ENOSYS:
      return "ENOSYS";
    case EINVAL:
      return "EINVAL";
    case EINTR:
      return "EINTR";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case EFAULT:
      return "EFAULT";
    case EACCES:
      return "EACCES";
    case ENOENT:
      return "ENOENT";
    case EBUSY:
      return "EBUSY";
    default:
      break;
  }
  static thread_local char other[32];
  std::snprintf(other, sizeof other, "errno %d", error);
  return other;
}

void report(const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  vreport(format, args);
  va_end(args);
}

void stop(const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  vreport(format, args);
  va_end(args);
  std::abort();
}

void reason_buffer::set(const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
}

}  // namespace asymfence::detail
