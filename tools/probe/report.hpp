// SPDX-License-Identifier: Apache-2.0 OR MIT
// The probe's report: text for people, one JSON object for programs.
#ifndef ASYMFENCE_TOOLS_PROBE_REPORT_HPP
#define ASYMFENCE_TOOLS_PROBE_REPORT_HPP

#include <ostream>
#include <string>

#include "findings.hpp"

namespace asymfence::probe {

void write_text(const findings& f, std::ostream& out);
void write_json(const findings& f, std::ostream& out);

// Wording shared by both reports.

// "EPERM" for the errno values a barrier meets, "errno 123" for others.
std::string errno_name(int error);

// Whether selection chose this candidate (a candidate readied for a refused
// override is not chosen).
bool chosen(const candidate_report& c, const selection_report& s) noexcept;

// Why a candidate strategy is or is not in use, in a few words.
std::string candidate_status(const candidate_report& c, const selection_report& s);

// The verdict behind the exit code: "ok", "no_sound_strategy",
// "self_check_failed" or "self_check_inconclusive".
const char* verdict(const findings& f) noexcept;

// Completed calls per issued barrier; 0 when none was issued.
double sharing_factor(const sharing& s) noexcept;

}  // namespace asymfence::probe

#endif
