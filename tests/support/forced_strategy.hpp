// SPDX-License-Identifier: Apache-2.0 OR MIT
// Forces a strategy through ASYMFENCE_STRATEGY, as an operator would, and
// afterwards puts back the environment, the real system-call seam and the
// default selection, so that one test's override never leaks into the next.
#ifndef ASYMFENCE_TESTS_SUPPORT_FORCED_STRATEGY_HPP
#define ASYMFENCE_TESTS_SUPPORT_FORCED_STRATEGY_HPP

#include <asymfence/asymfence.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "os_seam.hpp"
#include "testing.hpp"

namespace asymfence::test {

inline constexpr const char* strategy_variable = "ASYMFENCE_STRATEGY";

// Sets (or, for nullptr, clears) ASYMFENCE_STRATEGY and selects again with
// the seam as it is now. No other thread may be using the library.
inline init_result reselect_with_override(const char* value) {
  if (value == nullptr) {
    ::unsetenv(strategy_variable);
  } else {
    ::setenv(strategy_variable, value, 1);
  }
  return detail::reselect_for_testing();
}

// For the lifetime of the object: the override given (nullptr: none). On
// destruction: the variable as it was, the real seam, and a fresh selection.
class scoped_override {
 public:
  explicit scoped_override(const char* value) {
    if (const char* old = std::getenv(strategy_variable)) previous_ = old;
    result_ = reselect_with_override(value);
    message_ = result_.message;
  }
  ~scoped_override() {
    detail::os = detail::real_os();
    reselect_with_override(previous_ ? previous_->c_str() : nullptr);
  }
  scoped_override(const scoped_override&) = delete;
  scoped_override& operator=(const scoped_override&) = delete;

  // What selection answered under the override (its message is copied, since
  // the library's buffer is overwritten by the next selection).
  strategy selected() const noexcept { return result_.selected; }
  int error() const noexcept { return result_.error; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::optional<std::string> previous_;
  init_result result_;
  std::string message_;
};

}  // namespace asymfence::test

#endif
