// SPDX-License-Identifier: Apache-2.0 OR MIT
// The symbol that tells the linker which light() this library pairs with
// (asymfence.hpp): a translation unit whose light() is a compiler barrier
// needs the default library, one whose light() tests the flag needs the
// checked one. Defined by the library's own build setting, whatever the
// sanitizer its translation units were compiled with.
#include <asymfence/asymfence.hpp>

namespace asymfence::detail {
#if ASYMFENCE_CHECKED_LIGHT
inline namespace light_checked_v1 {
#else
inline namespace light_compiler_v1 {
#endif
extern ASYMFENCE_API const char library_variant;
const char library_variant = 1;
}  // namespace light_checked_v1 or light_compiler_v1
}  // namespace asymfence::detail
