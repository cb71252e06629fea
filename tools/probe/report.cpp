// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "report.hpp"

#include <cerrno>

#include "options.hpp"

namespace asymfence::probe {

std::string errno_name(int error) {
  switch (error) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    case EINTR: return "EINTR";
    case EBUSY: return "EBUSY";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    default: return "errno " + std::to_string(error);
  }
}

bool chosen(const candidate_report& c, const selection_report& s) noexcept {
  return c.selected && c.id == s.selected;
}

std::string candidate_status(const candidate_report& c, const selection_report& s) {
  if (chosen(c, s)) return s.forced ? "selected (forced by ASYMFENCE_STRATEGY)" : "selected";
  if (!c.usable) return std::string("not usable: ") + c.reason;
  if (s.forced) return "usable, but ASYMFENCE_STRATEGY forces another";
  if (s.selected == strategy::none) return "usable, but not selected";
  return "usable, but a preferred strategy was selected";
}

const char* verdict(const findings& f) noexcept {
  switch (exit_code(f)) {
    case exit_ok: return "ok";
    case exit_no_sound_strategy: return "no_sound_strategy";
    case exit_self_check_failed: return "self_check_failed";
    default: return "self_check_inconclusive";
  }
}

double sharing_factor(const sharing& s) noexcept {
  return s.barriers_issued == 0 ? 0
                                : static_cast<double>(s.heavy_calls) /
                                      static_cast<double>(s.barriers_issued);
}

}  // namespace asymfence::probe
