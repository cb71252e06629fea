// SPDX-License-Identifier: Apache-2.0 OR MIT
// Windows FlushProcessWriteBuffers: the kernel interrupts every processor
// running a thread of the process and waits for it to flush its write buffer.
// Wine implements it as a stub that does nothing (0 interrupts per call on a
// spinning CPU, measured under Wine 8): there it is refused, and accepted
// only when ASYMFENCE_STRATEGY forces it, with the warning.
#include "mechanism.hpp"
#include "os_seam.hpp"

namespace asymfence::detail {
namespace {

#if defined(_WIN32)
bool check(const system_facts&, reason_buffer& reason) noexcept {
  const char* wine_version = "";
  const char* host = "";
  if (!os.wine(&wine_version, &host)) return true;
  reason.set(
      "running under Wine %.20s, whose FlushProcessWriteBuffers is a stub that interrupts no "
      "CPU: heavy barriers would not reach other threads",
      wine_version);
  reason.accept_if_forced = true;
  return false;
}
#else
bool check(const system_facts&, reason_buffer& reason) noexcept {
  reason.set("needs Windows");
  return false;
}
#endif

bool prepare(reason_buffer&) noexcept { return true; }

int issue() noexcept {
  os.flush_process_write_buffers();
  return 0;  // it cannot fail: the API returns nothing
}

const char* remedy(int) noexcept { return "FlushProcessWriteBuffers cannot fail"; }

}  // namespace

const mechanism flush_process_write_buffers_mechanism = {strategy::flush_process_write_buffers,
                                                         check, prepare, issue, remedy};

}  // namespace asymfence::detail
