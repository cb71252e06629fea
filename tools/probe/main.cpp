// SPDX-License-Identifier: Apache-2.0 OR MIT
// asymfence-probe: what this machine offers for process-wide memory barriers,
// what they cost, and whether they hold here. See --help.
#include <asymfence/asymfence.hpp>

#include <cstdio>
#include <iostream>

#include "options.hpp"
#include "probe.hpp"
#include "report.hpp"

int main(int argc, char** argv) {
  using namespace asymfence::probe;
  options opts;
  parse_result parsed = parse_options(argc, argv, opts);
  switch (parsed.outcome) {
    case parse_outcome::usage_error:
      std::fprintf(stderr, "asymfence-probe: %s (see asymfence-probe --help)\n",
                   parsed.error.c_str());
      return exit_usage;
    case parse_outcome::help:
      std::cout << help_text();
      return exit_ok;
    case parse_outcome::version:
      std::cout << "asymfence-probe " << ASYMFENCE_VERSION_STRING << '\n';
      return exit_ok;
    case parse_outcome::run:
      break;
  }
  findings f = gather(opts);
  if (!f.init) std::cerr << "asymfence-probe: no sound strategy: " << f.init.message << '\n';
  if (opts.json) {
    write_json(f, std::cout);
  } else {
    write_text(f, std::cout);
  }
  std::cout.flush();
  return exit_code(f);
}
