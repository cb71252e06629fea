// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "selection.hpp"

#include <asymfence/diagnostics.hpp>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <thread>

#include "errors.hpp"
#include "membarrier.hpp"
#include "os_seam.hpp"
#include "process_mark.hpp"
#include "signal_safety.hpp"
#include "testing.hpp"
#include "tlb_shootdown.hpp"

#ifndef ENOTSUP
#define ENOTSUP 95
#endif

namespace asymfence::detail {

#if ASYMFENCE_CHECKED_LIGHT
std::atomic<bool> light_must_fence{true};
#endif

namespace {

constexpr int state_unselected = -1;
constexpr int state_selecting = -2;
constexpr const char* override_variable = "ASYMFENCE_STRATEGY";

// The strategy in force (a strategy value), or one of the states above.
std::atomic<int> state{state_unselected};
// Written by the selecting thread before it publishes `state`; read after.
selection_report found;

const char* const strategy_names[strategy_count] = {"none",
                                                    "membarrier_private_expedited",
                                                    "mprotect",
                                                    "membarrier_global",
                                                    "flush_process_write_buffers",
                                                    "fence",
                                                    "virtual_protect"};

void list_names(char* out, std::size_t cap, bool usable_only) noexcept {
  out[0] = '\0';
  std::size_t used = 0;
  for (const candidate_report& c : found.candidates) {
    if (usable_only && !c.usable) continue;
    int n = std::snprintf(out + used, cap - used, "%s%s", used == 0 ? "" : ", ", to_string(c.id));
    if (n < 0 || static_cast<std::size_t>(n) >= cap - used) return;
    used += static_cast<std::size_t>(n);
  }
  if (used == 0) std::snprintf(out, cap, "(none)");
}

void fail_selection(int error, const char* format, ...) noexcept
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void fail_selection(int error, const char* format, ...) noexcept {
  found.selected = strategy::none;
  found.error = error;
  va_list args;
  va_start(args, format);
  std::vsnprintf(found.message, sizeof found.message, format, args);
  va_end(args);
  report("%s", found.message);
}

// What the kernel and the CPU say, asked once: every check decides on these
// answers, and the report shows the same ones.
system_facts gather_facts() noexcept {
  system_facts facts{membarrier_query(), "", read_tlb_facts()};
  if (os.kernel_release(facts.kernel_release, sizeof facts.kernel_release) != 0) {
    facts.kernel_release[0] = '\0';
  }
  reason_buffer verdict;
  facts.tlb.interrupts_every_cpu = shootdown_interrupts_every_cpu(facts.tlb, verdict);
  std::snprintf(facts.tlb.verdict, sizeof facts.tlb.verdict, "%s", verdict.text);
  return facts;
}

// Fills `found` and returns the strategy chosen (strategy::none on failure).
strategy select_now() noexcept {
  found = selection_report{};
  found.light_fences = light_fences_in_this_build;
  const system_facts facts = gather_facts();
  const membarrier_query_result& q = facts.membarrier;
  found.membarrier_query = q.mask;
  found.membarrier_query_error = q.error;
  std::snprintf(found.kernel_release, sizeof found.kernel_release, "%s", facts.kernel_release);
  found.tlb = facts.tlb;

  const char* forced = os.getenv(override_variable);
  if (forced != nullptr && (forced[0] == '\0' || std::strcmp(forced, "auto") == 0)) {
    forced = nullptr;
  }
  const mechanism* wanted = nullptr;
  if (forced != nullptr) {
    found.forced = true;
    std::snprintf(found.forced_name, sizeof found.forced_name, "%s", forced);
    for (const mechanism* m : mechanisms_by_preference) {
      if (std::strcmp(forced, to_string(m->id)) == 0) wanted = m;
    }
  }

  // Check every mechanism, so that the report says why each one was not used;
  // prepare only the first acceptable one. A forced one whose refusal may be
  // overridden is taken, and its reason becomes the warning.
  const mechanism* chosen = nullptr;
  const char* forced_past = nullptr;
  for (std::size_t i = 0; i < mechanism_count; ++i) {
    const mechanism* m = mechanisms_by_preference[i];
    candidate_report& c = found.candidates[i];
    reason_buffer reason;
    c.id = m->id;
    c.usable = m->check(facts, reason);
    const bool overriding = !c.usable && reason.accept_if_forced && wanted == m;
    // A forced name that matches no strategy makes none eligible.
    bool eligible =
        (c.usable || overriding) && chosen == nullptr && (forced == nullptr || wanted == m);
    if (eligible && !m->prepare(reason)) {
      c.usable = false;
      eligible = false;
    }
    if (!c.usable || overriding) std::snprintf(c.reason, sizeof c.reason, "%s", reason.text);
    if (eligible) {
      c.usable = true;
      c.selected = true;
      chosen = m;
      if (overriding) forced_past = c.reason;
    }
  }

  char names[200];
  if (forced != nullptr && wanted == nullptr) {
    list_names(names, sizeof names, false);
    fail_selection(EINVAL, "%s='%.40s' names no strategy; valid names: auto, %s", override_variable,
                   forced, names);
    return strategy::none;
  }
  if (forced != nullptr && chosen == nullptr) {
    const char* why = "";
    for (const candidate_report& c : found.candidates) {
      if (c.id == wanted->id) why = c.reason;
    }
    list_names(names, sizeof names, true);
    fail_selection(ENOTSUP, "%s=%.40s is refused: %s; usable here: auto, %s", override_variable,
                   forced, why, names);
    return strategy::none;
  }
  if (chosen == nullptr) {
    char reasons[700] = "";
    std::size_t used = 0;
    for (const candidate_report& c : found.candidates) {
      int n = std::snprintf(reasons + used, sizeof reasons - used, "%s%s: %.110s",
                            used == 0 ? "" : "; ", to_string(c.id), c.reason);
      if (n < 0 || static_cast<std::size_t>(n) >= sizeof reasons - used) break;
      used += static_cast<std::size_t>(n);
    }
    fail_selection(q.mask < 0 ? q.error : ENOTSUP,
                   "no sound heavy barrier exists here (%s). Remedy: allow membarrier(2) in the "
                   "sandbox, or build with ASYMFENCE_CHECKED_LIGHT=ON so that both sides can use "
                   "fences",
                   reasons);
    return strategy::none;
  }
  found.selected = chosen->id;
  if (forced_past != nullptr) {
    std::snprintf(found.platform_warning, sizeof found.platform_warning,
                  "%s=%s is in force although %s", override_variable, forced, forced_past);
    report("%s", found.platform_warning);
  }
  return chosen->id;
}

// Publishes the selection. In the checked build, light() stops fencing only
// after the strategy is published: a child forked in between then sees a
// published asymmetric strategy (and light() fencing needlessly), never light()
// as a compiler barrier with a selection still to run, which could end at
// `fence` and would leave the flag cleared for good.
void publish(int selected) noexcept {
  state.store(selected, std::memory_order_release);
#if ASYMFENCE_CHECKED_LIGHT
  if (selected != static_cast<int>(strategy::fence) &&
      selected != static_cast<int>(strategy::none)) {
    light_must_fence.store(false, std::memory_order_release);
  }
#endif
}

// Set while this thread selects: a call from a signal handler that
// interrupted it must not wait for itself.
ASYMFENCE_SIGNAL_SAFE_THREAD_LOCAL bool selecting_here = false;
// How often a waiter checks whether the selection it waits for was copied
// from the parent of this forked process (with no thread to finish it).
constexpr unsigned yields_between_checks = 64;

// The selecting thread sets the selection mark before it publishes
// `selecting` (process_mark.hpp), so a waiter that sees `selecting` while the
// mark is not this process's takes the selection over (one waiter wins).
int select_or_wait() noexcept {
  int current = state.load(std::memory_order_acquire);
  unsigned yields = 0;
  while (current < 0) {
    if (selecting_here) {
      stop(
          "asymfence was called from a signal handler that interrupted its selection on the "
          "same thread; selection is not async-signal-safe. Remedy: call asymfence::init() "
          "before installing the handler");
    }
    bool mine = false;
    if (current == state_unselected) {
      set_for_this_process(process_mark::selection);
      mine = state.compare_exchange_strong(current, state_selecting, std::memory_order_acq_rel);
    } else if (++yields % yields_between_checks == 0 &&
               !set_by_this_process(process_mark::selection)) {
      mine = claim_for_this_process(process_mark::selection);
    }
    if (mine) {
      selecting_here = true;
      current = static_cast<int>(select_now());
      publish(current);
      selecting_here = false;
      break;
    }
    std::this_thread::yield();  // another thread is selecting (only at start-up)
    current = state.load(std::memory_order_acquire);
  }
  return current;
}

// Selects at load time, so that registration happens before the program
// starts threads (registering later costs an RCU grace period).
const int selected_at_load = select_or_wait();

}  // namespace

const mechanism* find_mechanism(strategy id) noexcept {
  for (const mechanism* m : mechanisms_by_preference) {
    if (m->id == id) return m;
  }
  return nullptr;
}

const mechanism* ensure_selected() noexcept {
  int current = state.load(std::memory_order_acquire);
  if (current < 0) current = select_or_wait();
  return find_mechanism(static_cast<strategy>(current));
}

const mechanism* replace_failed_mechanism(const mechanism* failed, int error) noexcept {
  const char* failed_name = to_string(failed->id);
  if (found.forced) {
    stop(
        "heavy barrier failed: %s returned %s (%s); %s forces it, so no other strategy is "
        "tried. Remedy: %s",
        failed_name, errno_name(error), std::strerror(error), override_variable,
        failed->remedy(error));
  }
  bool after_failed = false;
  for (std::size_t i = 0; i < mechanism_count; ++i) {
    const mechanism* m = mechanisms_by_preference[i];
    if (m == failed) {
      after_failed = true;
      continue;
    }
    // A fence is never a runtime replacement: threads already running light()
    // as a compiler barrier would not pair with it.
    if (!after_failed || !found.candidates[i].usable || m->id == strategy::fence) continue;
    reason_buffer reason;
    if (!m->prepare(reason)) continue;
    state.store(static_cast<int>(m->id), std::memory_order_release);
    report("%s failed with %s (%s); heavy barriers now use %s", failed_name, errno_name(error),
           std::strerror(error), to_string(m->id));
    return m;
  }
  stop(
      "heavy barrier failed: %s returned %s (%s) and no other sound strategy is left. "
      "Remedy: %s",
      failed_name, errno_name(error), std::strerror(error), failed->remedy(error));
}

void stop_without_strategy() noexcept {
  stop("heavy() called, but no sound strategy exists: %s", found.message);
}

void unselect_for_testing() noexcept {
  // The flag first, for the same reason as in publish(): never light() as a
  // compiler barrier while a selection is still to run.
#if ASYMFENCE_CHECKED_LIGHT
  light_must_fence.store(true, std::memory_order_relaxed);
#endif
  state.store(state_unselected, std::memory_order_relaxed);
}

init_result reselect_for_testing() noexcept {
  unselect_for_testing();
  return init();
}

}  // namespace asymfence::detail

namespace asymfence {

const char* to_string(strategy s) noexcept {
  int i = static_cast<int>(s);
  return i >= 0 && i < strategy_count ? detail::strategy_names[i] : "unknown";
}

strategy active_strategy() noexcept {
  const detail::mechanism* m = detail::ensure_selected();
  return m == nullptr ? strategy::none : m->id;
}

init_result init() noexcept {
  const detail::mechanism* in_force = detail::ensure_selected();
  init_result result;
  result.selected = in_force == nullptr ? strategy::none : in_force->id;
  result.error = detail::found.error;
  result.message = detail::found.message;
  return result;
}

selection_report selection() noexcept {
  detail::ensure_selected();
  return detail::found;
}

}  // namespace asymfence
