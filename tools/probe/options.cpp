// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "options.hpp"

#include <asymfence/asymfence.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "self_check.hpp"

namespace asymfence::probe {
namespace {

constexpr std::uint64_t default_iterations = 200000;
constexpr std::uint64_t quick_iterations = 20000;
// Each iteration keeps one 8-byte result per side in memory: 160 MB at most.
constexpr std::uint64_t max_iterations = 10000000;
constexpr int max_threads = 1024;

// Parses a whole decimal argument in [1, max]; false for anything else.
bool parse_count(const char* text, std::uint64_t max, std::uint64_t& out) {
  if (text == nullptr || *text < '0' || *text > '9') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < 1 || value > max) return false;
  out = value;
  return true;
}

// Splits "--name=value" into its name and value; `value` is null without '='.
std::string option_name(const char* arg, const char*& value) {
  const char* equals = std::strchr(arg, '=');
  if (equals == nullptr || std::strncmp(arg, "--", 2) != 0) {
    value = nullptr;
    return arg;
  }
  value = equals + 1;
  return std::string(arg, equals);
}

}  // namespace

parse_result parse_options(int argc, char** argv, options& out) {
  parse_result result;
  auto fail = [&](std::string message) {
    result.outcome = parse_outcome::usage_error;
    result.error = std::move(message);
    return result;
  };
  bool iterations_given = false;
  for (int i = 1; i < argc; ++i) {
    const char* value = nullptr;
    std::string name = option_name(argv[i], value);
    bool takes_value = name == "--iterations" || name == "--threads";
    if (!takes_value && value != nullptr) return fail(name + " takes no value");
    if (takes_value && value == nullptr) {
      if (i + 1 == argc) return fail(name + " needs a number");
      value = argv[++i];
    }
    if (name == "-h" || name == "--help") {
      result.outcome = parse_outcome::help;
    } else if (name == "--version") {
      if (result.outcome != parse_outcome::help) result.outcome = parse_outcome::version;
    } else if (name == "--json") {
      out.json = true;
    } else if (name == "--quick") {
      out.quick = true;
    } else if (name == "--iterations") {
      if (!parse_count(value, max_iterations, out.iterations)) {
        return fail("--iterations wants a whole number from 1 to " +
                    std::to_string(max_iterations) + ", not '" + value + "'");
      }
      iterations_given = true;
    } else if (name == "--threads") {
      std::uint64_t threads = 0;
      if (!parse_count(value, max_threads, threads)) {
        return fail("--threads wants a whole number from 1 to " + std::to_string(max_threads) +
                    ", not '" + value + "'");
      }
      out.threads = static_cast<int>(threads);
    } else {
      return fail("unknown option '" + std::string(argv[i]) + "'");
    }
  }
  if (!iterations_given) out.iterations = out.quick ? quick_iterations : default_iterations;
  return result;
}

std::string help_text() {
  // The strategy names, wrapped to fit 80 columns under their heading.
  const std::string indent(27, ' ');
  std::string names = indent + "auto";
  std::size_t line_start = 0;
  for (int s = 1; s < strategy_count; ++s) {
    std::string name = to_string(static_cast<strategy>(s));
    if (names.size() - line_start + name.size() + 2 > 80) {
      names += ",\n";
      line_start = names.size();
      names += indent + name;
    } else {
      names += ", " + name;
    }
  }
  return "Usage: asymfence-probe [options]\n"
         "\n"
         "Tells what this machine offers for process-wide (asymmetric) memory barriers and\n"
         "what they cost: the OS, kernel and architecture, the membarrier(2) commands the\n"
         "kernel offers, the strategy asymfence selected and why each other one was not,\n"
         "the costs of light() and heavy() beside the raw mechanisms, how concurrent heavy()\n"
         "callers share barriers, and a store-buffering self-check with its control.\n"
         "\n"
         "Options:\n"
         "  --json          print exactly one JSON object on stdout instead of the report\n"
         "  --quick         shorter measurements (under a second on an idle machine)\n"
         "  --iterations N  store-buffering iterations of the self-check (default " +
         std::to_string(default_iterations) + ", or\n"
         "                  " + std::to_string(quick_iterations) +
         " with --quick); its control runs at least " +
         std::to_string(minimum_control_iterations) + "\n"
         "  --threads N     threads calling heavy() at once for the sharing figure (default 8)\n"
         "  --version       print the library version and exit\n"
         "  -h, --help      print this help and exit\n"
         "\n"
         "Environment:\n"
         "  ASYMFENCE_STRATEGY=NAME  force a strategy instead of the automatic choice;\n"
         "                           NAME is one of:\n" +
         names + "\n"
         "\n"
         "Exit codes:\n"
         "  0  a sound strategy is in use and the self-check passed\n"
         "  1  no sound strategy exists here, or ASYMFENCE_STRATEGY was refused (the reason\n"
         "     is printed)\n"
         "  2  usage error: an unknown option or a bad value\n"
         "  3  the self-check failed: light() against heavy() gave forbidden outcomes,\n"
         "     or ASYMFENCE_STRATEGY forced a strategy past the reason it was refused\n"
         "     (Wine's stub FlushProcessWriteBuffers, a hypervisor flush hypercall)\n"
         "  4  the self-check was inconclusive: its control showed no violation in\n"
         "     a minute of retries (the two CPUs never ran the threads at once), so a\n"
         "     clean result would prove nothing\n";
}

}  // namespace asymfence::probe
