// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "system_info.hpp"

#include <asymfence/asymfence.hpp>

#include <cstdio>

#if defined(_WIN32)
#include <windows.h>
#else
#include <sys/utsname.h>
#endif

namespace asymfence::probe {
namespace {

// The architecture this binary was built for, where the OS does not say.
const char* compiled_architecture() noexcept {
#if defined(__x86_64__) || defined(_M_X64)
  return "x86_64";
#elif defined(__i386__) || defined(_M_IX86)
  return "x86";
#elif defined(__aarch64__) || defined(_M_ARM64)
  return "aarch64";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return "ppc64le";
#else
  return "unknown";
#endif
}

#if defined(_WIN32)
// GetVersionEx reports 6.2 to programs without a manifest; RtlGetVersion
// reports the real version (and Wine's emulated one).
std::string windows_version() {
  struct version_info {
    ULONG size, major, minor, build, platform;
    WCHAR service_pack[128];
  };
  using rtl_get_version = LONG(WINAPI*)(version_info*);
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  auto get = ntdll == nullptr ? nullptr
                              : reinterpret_cast<rtl_get_version>(reinterpret_cast<void*>(
                                    GetProcAddress(ntdll, "RtlGetVersion")));
  version_info info{};
  info.size = sizeof info;
  if (get == nullptr || get(&info) != 0) return "";
  char text[64];
  std::snprintf(text, sizeof text, "%lu.%lu.%lu", info.major, info.minor, info.build);
  return text;
}
#endif

}  // namespace

system_facts describe_system() {
  system_facts facts;
#if defined(_WIN32)
  facts.os = "Windows";
  facts.kernel = windows_version();
  facts.arch = compiled_architecture();
#else
  struct utsname names {};
  if (uname(&names) == 0) {
    facts.os = names.sysname;
    facts.kernel = names.release;
    facts.arch = names.machine;
  } else {
    facts.os = "unknown";
    facts.arch = compiled_architecture();
  }
#endif
  facts.library_version = ASYMFENCE_VERSION_STRING;
  facts.light_compiler_only = ASYMFENCE_LIGHT_IS_COMPILER_BARRIER != 0;
  facts.checked_light = ASYMFENCE_CHECKED_LIGHT != 0;
  facts.tsan = ASYMFENCE_TSAN != 0;
  return facts;
}

}  // namespace asymfence::probe
