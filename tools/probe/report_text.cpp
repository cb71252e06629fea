// SPDX-License-Identifier: Apache-2.0 OR MIT
// The report for people: sections with aligned labels; durations scaled to
// ns, us or ms.
#include <cstdio>
#include <string>

#include "options.hpp"
#include "report.hpp"

namespace asymfence::probe {
namespace {

constexpr int label_width = 38;

std::string format(const char* fmt, double value) {
  char text[64];
  std::snprintf(text, sizeof text, fmt, value);
  return text;
}

std::string duration(double ns) {
  if (ns < 10) return format("%.2f ns", ns);
  if (ns < 1000) return format("%.1f ns", ns);
  if (ns < 1e6) return format("%.1f us", ns / 1e3);
  return format("%.1f ms", ns / 1e6);
}

std::string count(std::uint64_t n) {
  std::string digits = std::to_string(n);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) {
    digits.insert(static_cast<std::size_t>(at), ",");
  }
  return digits;
}

std::string padded(const std::string& text, std::size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

void line(std::ostream& out, const std::string& label, const std::string& value) {
  out << "  " << padded(label, label_width) << value << '\n';
}

void write_system(std::ostream& out, const findings& f) {
  const system_facts& s = f.system;
  out << "System\n";
  line(out, "OS, kernel", s.os + " " + (s.kernel.empty() ? "(release unknown)" : s.kernel));
  line(out, "architecture", s.arch);
  line(out, "library", "asymfence " + s.library_version);
  std::string light = s.light_compiler_only ? "a compiler barrier only: no instruction"
                      : s.checked_light     ? "tests one flag (checked-light build)"
                      : s.tsan              ? "a seq_cst fence (ThreadSanitizer build)"
                                            : "a seq_cst fence (no asymmetric mechanism here)";
  line(out, "light() in this build", light);
}

void write_membarrier(std::ostream& out, const findings& f) {
  const selection_report& s = f.selection;
  out << "\nmembarrier(2)\n";
  if (s.membarrier_query < 0) {
    line(out, "QUERY", "failed: " + errno_name(s.membarrier_query_error));
  } else {
    char mask[32];
    std::snprintf(mask, sizeof mask, "0x%lx", s.membarrier_query);
    line(out, "QUERY", mask);
    for (const membarrier_command& c : membarrier_commands) {
      bool offered = (s.membarrier_query & c.bit) != 0;
      line(out, "", std::string(offered ? "[x] " : "[ ] ") + c.name);
    }
    long unknown = s.membarrier_query & ~membarrier_known_bits;
    if (unknown != 0) line(out, "", "[x] bits unknown to this probe: " + std::to_string(unknown));
  }
  const registration_check& r = f.registration;
  line(out, "REGISTER_PRIVATE_EXPEDITED",
       !r.attempted ? "not attempted (QUERY does not offer it)"
       : r.ok       ? "works"
                    : "fails with " + errno_name(r.error));
}

void write_tlb_flush(std::ostream& out, const findings& f) {
  const tlb_flush_report& t = f.selection.tlb;
  out << "\nTLB shootdowns (the mprotect and virtual_protect strategies)\n";
  if (!t.cpuid) {
    line(out, "CPUID", "not available (not x86)");
  } else {
    line(out, "INVLPGB (0x80000008 EBX bit 3)", t.invlpgb ? "yes: broadcast flushes" : "no");
    line(out, "hypervisor (1 ECX bit 31)",
         !t.hypervisor ? "none"
                       : std::string(t.hypervisor_signature[0] == '\0' ? "(unnamed)"
                                                                       : t.hypervisor_signature));
    if (t.hypervisor) {
      line(out, "KVM paravirtual flush", t.kvm_pv_tlb_flush ? "yes (0x40000001 EAX bit 9)" : "no");
      line(out, "Hyper-V flush hypercall",
           t.hyperv_remote_flush ? "recommended (0x40000004 EAX bit 2)" : "not recommended");
    }
  }
  line(out, "every CPU interrupted",
       std::string(t.interrupts_every_cpu ? "yes: " : "no: ") + t.verdict);
}

void write_selection(std::ostream& out, const findings& f) {
  const selection_report& s = f.selection;
  out << "\nStrategy\n";
  std::string how = s.forced ? std::string(" (forced: ASYMFENCE_STRATEGY=") + s.forced_name + ")"
                             : " (automatic)";
  line(out, "selected", to_string(s.selected) + how);
  if (f.active != s.selected) line(out, "in use now", to_string(f.active));
  if (!f.init) line(out, "why none", f.init.message);
  for (const candidate_report& c : s.candidates) {
    line(out, std::string("  ") + to_string(c.id), candidate_status(c, s));
  }
}

void write_latency_row(std::ostream& out, const std::string& label, const latency& l) {
  if (!l.measured) {
    line(out, label, "failed: " + errno_name(l.error));
    return;
  }
  std::string samples = l.samples >= 100 ? ""
                        : l.samples == 1  ? "  (1 sample)"
                                          : "  (" + std::to_string(l.samples) + " samples)";
  line(out, label, padded(duration(l.idle_ns), 14) + duration(l.one_spinning_ns) + samples);
}

void write_costs(std::ostream& out, const costs& c) {
  out << "\nCosts (medians)\n";
  out << "  fast path: one \"store; barrier; load\" step\n";
  line(out, "  compiler barrier", duration(c.compiler_barrier_ns));
  line(out, "  light()", duration(c.light_ns) +
                             format("  (%.2fx a compiler barrier)",
                                    c.light_ns / c.compiler_barrier_ns));
  line(out, "  seq_cst fence", duration(c.seq_cst_fence_ns) +
                                   format("  (%.1fx light())", c.seq_cst_fence_ns / c.light_ns));
  out << "  slow path: one call\n";
  line(out, "", padded("alone", 14) + "1 other thread spinning");
  write_latency_row(out, "  heavy()", c.heavy);
  for (const raw_latency& r : c.raw) write_latency_row(out, "  raw " + r.call, r.cost);
}

void write_sharing(std::ostream& out, const sharing& s) {
  out << "\nSharing: " << s.threads << " threads calling at once for "
      << format("%.2f s", s.seconds) << "\n";
  line(out, "  heavy()", count(static_cast<std::uint64_t>(s.heavy_calls_per_s)) +
                             " calls/s, " + count(s.barriers_issued) + " barriers for " +
                             count(s.heavy_calls) + " calls");
  if (s.barriers_issued > 0) {
    line(out, "  sharing factor", format("%.2f calls per barrier", sharing_factor(s)));
  }
  if (s.raw_call.empty()) return;
  if (!s.raw_measured) {
    line(out, "  raw " + s.raw_call, "failed: " + errno_name(s.raw_error));
    return;
  }
  line(out, "  raw " + s.raw_call,
       count(static_cast<std::uint64_t>(s.raw_calls_per_s)) + " calls/s (one call each)");
  if (s.raw_calls > 0) {
    line(out, "  heavy() vs raw",
         format("%.2fx the completed calls per second", s.heavy_calls_per_s / s.raw_calls_per_s));
  }
}

void write_self_check(std::ostream& out, const self_check& c) {
  out << "\nSelf-check: store buffering (x = i; barrier; r1 = y  against  y = i; barrier; "
         "r2 = x)\n";
  std::string cut = c.iterations < c.requested
                        ? " (time limit: " + count(c.requested) + " requested)"
                        : "";
  line(out, "  light() vs heavy()", count(c.iterations) + " iterations, " +
                                        count(c.forbidden) + " forbidden" + cut);
  line(out, std::string("  control: ") + c.control_light + " vs fence",
       count(c.control_iterations) + " iterations, " + count(c.control_forbidden) +
           " forbidden (attempt " + std::to_string(c.control_attempts) + ")");
  if (!c.pinned) line(out, "", "note: the two threads could not be pinned to distinct CPUs");
}

void write_verdict(std::ostream& out, const findings& f) {
  out << "\nResult: ";
  switch (exit_code(f)) {
    case exit_ok:
      out << "OK. heavy() uses " << to_string(f.active)
          << "; the self-check saw no forbidden outcome, and its control saw "
          << count(f.check.control_forbidden) << ".\n";
      break;
    case exit_no_sound_strategy:
      out << "NO SOUND STRATEGY. " << f.init.message << "\n";
      break;
    case exit_self_check_failed:
      if (f.check.forbidden > 0) {
        out << "FAILED. light() against heavy() gave " << count(f.check.forbidden)
            << " forbidden outcomes: heavy barriers do not reach other threads here.\n";
      } else {
        out << "FAILED. The self-check saw no forbidden outcome, but heavy() is not known to "
               "be a barrier here: "
            << f.selection.platform_warning << ".\n";
      }
      break;
    default:
      out << "INCONCLUSIVE. The control showed no violation in " << f.check.control_attempts
          << " attempts, so a clean self-check proves nothing on this machine (one CPU, or a "
             "busy machine?).\n";
  }
}

}  // namespace

void write_text(const findings& f, std::ostream& out) {
  const char* warning = f.selection.platform_warning;
  if (warning[0] != '\0') out << "\n!!! WARNING: " << warning << " !!!\n\n";
  write_system(out, f);
  write_membarrier(out, f);
  write_tlb_flush(out, f);
  write_selection(out, f);
  if (f.measured) {
    write_costs(out, f.cost);
    write_sharing(out, f.shared);
    write_self_check(out, f.check);
  }
  write_verdict(out, f);
  if (warning[0] != '\0') out << "!!! WARNING: " << warning << " !!!\n";
}

}  // namespace asymfence::probe
