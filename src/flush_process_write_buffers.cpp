// SPDX-License-Identifier: Apache-2.0 OR MIT
// Windows FlushProcessWriteBuffers: the kernel interrupts every processor
// running a thread of the process and waits for it to flush its write buffer.
#include <cstdio>

#include "mechanism.hpp"
#include "os_seam.hpp"

#if defined(_WIN32)
#include <windows.h>
#endif

namespace asymfence::detail {
namespace {

#if defined(_WIN32)
bool check(const system_facts&, reason_buffer&) noexcept { return true; }
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

const char* platform_warning() noexcept {
#if defined(_WIN32)
  // Wine's ntdll exports wine_get_version; Windows' does not.
  using version_function = const char* (*)();
  HMODULE ntdll = ::GetModuleHandleA("ntdll.dll");
  auto wine_version = ntdll == nullptr ? nullptr
                                       : reinterpret_cast<version_function>(reinterpret_cast<void*>(
                                             ::GetProcAddress(ntdll, "wine_get_version")));
  if (wine_version != nullptr) {
    static char text[160];
    std::snprintf(text, sizeof text,
                  "running under Wine %s, whose FlushProcessWriteBuffers is a stub: heavy "
                  "barriers do not reach other threads here",
                  wine_version());
    return text;
  }
#endif
  return "";
}

const mechanism flush_process_write_buffers_mechanism = {strategy::flush_process_write_buffers,
                                                         check, prepare, issue, remedy};

}  // namespace asymfence::detail
