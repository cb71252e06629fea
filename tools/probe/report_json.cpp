// SPDX-License-Identifier: Apache-2.0 OR MIT
// The report as one JSON object. Keys that programs rely on: "strategy",
// "light_compiler_only", "tlb_flush": {"invlpgb", "hypervisor",
// "interrupts_every_cpu", "verdict"} and "litmus": {"iterations",
// "forbidden", "control_forbidden"}; durations in nanoseconds under
// "costs_ns".
#include "options.hpp"
#include "json_writer.hpp"
#include "report.hpp"

namespace asymfence::probe {
namespace {

void write_optional_text(json_writer& json, const char* text) {
  if (text[0] == '\0') {
    json.null();
  } else {
    json.string(text);
  }
}

void write_errno(json_writer& json, int error) {
  if (error == 0) {
    json.null();
  } else {
    json.string(errno_name(error));
  }
}

void write_number_or_null(json_writer& json, bool present, double value) {
  if (present) {
    json.number(value);
  } else {
    json.null();
  }
}

void write_membarrier(json_writer& json, const findings& f) {
  const selection_report& s = f.selection;
  // mask is null (with the errno) where QUERY failed or membarrier does not exist.
  const bool answered = s.membarrier_query >= 0;
  json.key("membarrier_query").begin_object();
  json.key("mask");
  if (answered) {
    json.integer(s.membarrier_query);
  } else {
    json.null();
  }
  json.key("error");
  write_errno(json, s.membarrier_query_error);
  json.key("commands").begin_object();
  for (const membarrier_command& c : membarrier_commands) {
    json.key(c.name).boolean(answered && (s.membarrier_query & c.bit) != 0);
  }
  json.end_object();
  json.key("unknown_bits").integer(answered ? s.membarrier_query & ~membarrier_known_bits : 0);
  json.end_object();
  json.key("registration").begin_object();
  json.key("command").string("REGISTER_PRIVATE_EXPEDITED");
  json.key("attempted").boolean(f.registration.attempted);
  json.key("ok").boolean(f.registration.ok);
  json.key("error");
  write_errno(json, f.registration.error);
  json.end_object();
}

void write_tlb_flush(json_writer& json, const findings& f) {
  const tlb_flush_report& t = f.selection.tlb;
  json.key("tlb_flush").begin_object();
  json.key("cpuid").boolean(t.cpuid);
  json.key("invlpgb").boolean(t.invlpgb);
  json.key("hypervisor");
  if (t.hypervisor) {
    json.string(t.hypervisor_signature);
  } else {
    json.null();
  }
  json.key("kvm_pv_tlb_flush").boolean(t.kvm_pv_tlb_flush);
  json.key("hyperv_remote_flush").boolean(t.hyperv_remote_flush);
  json.key("interrupts_every_cpu").boolean(t.interrupts_every_cpu);
  json.key("verdict").string(t.verdict);
  json.end_object();
}

void write_selection(json_writer& json, const findings& f) {
  const selection_report& s = f.selection;
  json.key("strategy").string(to_string(f.active));
  json.key("selected_at_start").string(to_string(s.selected));
  json.key("forced");
  if (s.forced) {
    json.begin_object().key("variable").string("ASYMFENCE_STRATEGY");
    json.key("value").string(s.forced_name).end_object();
  } else {
    json.null();
  }
  json.key("error");
  if (f.init) {
    json.null();
  } else {
    json.begin_object().key("errno").string(errno_name(f.init.error));
    json.key("message").string(f.init.message).end_object();
  }
  json.key("candidates").begin_array();
  for (const candidate_report& c : s.candidates) {
    json.begin_object();
    json.key("strategy").string(to_string(c.id));
    json.key("usable").boolean(c.usable);
    json.key("selected").boolean(chosen(c, s));
    json.key("reason");
    write_optional_text(json, c.reason);
    json.key("status").string(candidate_status(c, s));
    json.end_object();
  }
  json.end_array();
}

void write_latency(json_writer& json, const latency& l) {
  json.key("alone");
  write_number_or_null(json, l.measured, l.idle_ns);
  json.key("one_spinning");
  write_number_or_null(json, l.measured, l.one_spinning_ns);
  json.key("samples").integer(l.samples);
  json.key("error");
  write_errno(json, l.error);
}

void write_costs(json_writer& json, const costs& c) {
  json.key("costs_ns").begin_object();
  json.key("step").string("store; barrier; load");
  json.key("compiler_barrier").number(c.compiler_barrier_ns);
  json.key("light").number(c.light_ns);
  json.key("seq_cst_fence").number(c.seq_cst_fence_ns);
  json.key("heavy").begin_object();
  write_latency(json, c.heavy);
  json.end_object();
  json.key("raw").begin_array();
  for (const raw_latency& r : c.raw) {
    json.begin_object();
    json.key("strategy").string(to_string(r.mechanism));
    json.key("call").string(r.call);
    write_latency(json, r.cost);
    json.end_object();
  }
  json.end_array();
  json.end_object();
}

void write_sharing(json_writer& json, const sharing& s) {
  json.key("sharing").begin_object();
  json.key("threads").integer(s.threads);
  json.key("seconds").number(s.seconds);
  json.key("heavy_calls").unsigned_integer(s.heavy_calls);
  json.key("barriers_issued").unsigned_integer(s.barriers_issued);
  json.key("heavy_calls_per_s").number(s.heavy_calls_per_s);
  json.key("sharing_factor");
  write_number_or_null(json, s.barriers_issued > 0, sharing_factor(s));
  json.key("raw_call");
  write_optional_text(json, s.raw_call.c_str());
  json.key("raw_calls").unsigned_integer(s.raw_calls);
  json.key("raw_calls_per_s");
  write_number_or_null(json, s.raw_measured, s.raw_calls_per_s);
  json.key("raw_error");
  write_errno(json, s.raw_error);
  json.key("heavy_vs_raw");
  bool compared = s.raw_measured && s.raw_calls > 0;
  write_number_or_null(json, compared, compared ? s.heavy_calls_per_s / s.raw_calls_per_s : 0);
  json.end_object();
}

void write_litmus(json_writer& json, const self_check& c) {
  json.key("litmus").begin_object();
  json.key("iterations").unsigned_integer(c.iterations);
  json.key("requested_iterations").unsigned_integer(c.requested);
  json.key("forbidden").unsigned_integer(c.forbidden);
  json.key("pinned").boolean(c.pinned);
  json.key("control_light").string(c.control_light);
  json.key("control_iterations").unsigned_integer(c.control_iterations);
  json.key("control_forbidden").unsigned_integer(c.control_forbidden);
  json.key("control_attempts").integer(c.control_attempts);
  json.end_object();
}

}  // namespace

void write_json(const findings& f, std::ostream& out) {
  json_writer json(out);
  json.begin_object();
  json.key("library_version").string(f.system.library_version);
  json.key("os").string(f.system.os);
  json.key("kernel").string(f.system.kernel);
  json.key("arch").string(f.system.arch);
  json.key("light_compiler_only").boolean(f.system.light_compiler_only);
  json.key("build").begin_object();
  json.key("checked_light").boolean(f.system.checked_light);
  json.key("tsan").boolean(f.system.tsan);
  json.end_object();
  json.key("platform_warning");
  write_optional_text(json, f.selection.platform_warning);
  write_membarrier(json, f);
  write_tlb_flush(json, f);
  write_selection(json, f);
  if (f.measured) {
    write_costs(json, f.cost);
    write_sharing(json, f.shared);
    write_litmus(json, f.check);
  } else {
    json.key("costs_ns").null();
    json.key("sharing").null();
    json.key("litmus").null();
  }
  json.key("result").string(verdict(f));
  json.key("exit_code").integer(exit_code(f));
  json.end_object();
}

}  // namespace asymfence::probe
