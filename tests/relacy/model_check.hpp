// SPDX-License-Identifier: Apache-2.0 OR MIT
// Runs one relacy model-checking case, named on the command line, and checks
// relacy's verdict against the one the case expects: no violation for a
// correct use of the barriers, a named failure for a control that leaves a
// barrier out. A control therefore passes only when relacy reports its bug.
#ifndef ASYMFENCE_TESTS_RELACY_MODEL_CHECK_HPP
#define ASYMFENCE_TESTS_RELACY_MODEL_CHECK_HPP

#include <cstring>
#include <initializer_list>
#include <iostream>

#include <relacy/relacy.hpp>

namespace asymfence::model_check {

struct model_case {
  const char* name;
  bool (*simulate)(rl::test_params&);
  rl::test_result_e expected;  // test_result_success, or the failure a control must show
};

// A case that runs the relacy test suite `Suite` and expects `expected`.
template <typename Suite>
model_case make_case(const char* name, rl::test_result_e expected) {
  return {name, &rl::simulate<Suite>, expected};
}

// How relacy searches one case. The full search scheduler enumerates every
// interleaving and, for each load, both the latest value and the one before
// it; the context-bound scheduler does the same for the executions in which
// threads are preempted at most `context_bound` times, for tests whose full
// space is too large; the random scheduler runs `iterations` random
// executions, in which loads may also read older values.
struct search {
  rl::scheduler_type_e scheduler;
  unsigned context_bound;
  rl::iteration_t iterations;
};
inline search full_search() { return {rl::sched_full, 0, 0}; }
inline search bounded_search(unsigned context_bound) { return {rl::sched_bound, context_bound, 0}; }
inline search random_search(rl::iteration_t iterations) { return {rl::sched_random, 0, iterations}; }

// Runs the case named by argv[1] under each search in turn; every one must
// give the case's expected verdict. `--list` prints the cases' names instead.
// Returns main's exit status.
template <std::size_t count>
int run_model_case(int argc, char** argv, const model_case (&cases)[count],
                   std::initializer_list<search> searches) {
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {  // for ctest's discovery
    for (const model_case& c : cases) std::cout << c.name << '\n';
    return 0;
  }
  const model_case* chosen = nullptr;
  for (const model_case& c : cases) {
    if (argc == 2 && std::strcmp(argv[1], c.name) == 0) chosen = &c;
  }
  if (chosen == nullptr) {
    std::cerr << "usage: " << argv[0] << " --list | CASE, where CASE is one of:";
    for (const model_case& c : cases) std::cerr << ' ' << c.name;
    std::cerr << '\n';
    return 2;
  }
  const bool control = chosen->expected != rl::test_result_success;
  bool all_as_expected = true;
  for (const search& how : searches) {
    std::cout << "case " << chosen->name << ", " << rl::format(how.scheduler) << ": "
              << (control ? "control, relacy must report " : "relacy must report ")
              << rl::test_result_str(chosen->expected) << "\n";
    rl::test_params params;
    params.search_type = how.scheduler;
    params.context_bound = how.context_bound;
    params.iteration_count = how.iterations;
    chosen->simulate(params);  // its own verdict compares with the suite's default expectation
    const bool as_expected = params.test_result == chosen->expected;
    all_as_expected = all_as_expected && as_expected;
    std::cout << (as_expected ? "PASS: " : "FAIL: ") << "relacy reported "
              << rl::test_result_str(params.test_result) << " after " << params.stop_iteration
              << " executions (" << rl::format(how.scheduler) << "), expected "
              << rl::test_result_str(chosen->expected) << "\n\n";
  }
  return all_as_expected ? 0 : 1;
}

}  // namespace asymfence::model_check

#endif
