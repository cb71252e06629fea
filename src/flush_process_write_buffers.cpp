// Windows FlushProcessWriteBuffers: the kernel interrupts every processor
// running a thread of the process and waits for it to flush its write buffer.
#include "mechanism.hpp"
#include "os_seam.hpp"

namespace asymfence::detail {
namespace {

#if defined(_WIN32)
bool check(reason_buffer&) noexcept { return true; }
#else
bool check(reason_buffer& reason) noexcept {
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
