// SPDX-License-Identifier: Apache-2.0 OR MIT
#include "raw_barriers.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(_WIN32)
#include <windows.h>
#endif

namespace asymfence::raw {
namespace {

#if defined(__linux__)
long raw_membarrier(int command) noexcept { return syscall(__NR_membarrier, command, 0, 0); }

int membarrier_errno(int command) noexcept { return raw_membarrier(command) == 0 ? 0 : errno; }

int private_expedited() noexcept { return membarrier_errno(MEMBARRIER_CMD_PRIVATE_EXPEDITED); }

int global() noexcept { return membarrier_errno(MEMBARRIER_CMD_GLOBAL); }

// A page of the calling thread's own, so that threads measuring at once do
// not share one (mprotect on a shared page would serialise them in the kernel
// on its lock, which is not what a caller of the raw trick pays alone).
class own_page {
 public:
  own_page() noexcept {
    long size = sysconf(_SC_PAGESIZE);
    size_ = size > 0 ? static_cast<std::size_t>(size) : 4096;
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      error_ = errno;
      return;
    }
    bytes_ = static_cast<volatile unsigned char*>(p);
    bytes_[0] = 1;
  }
  ~own_page() {
    if (bytes_ != nullptr) munmap(const_cast<unsigned char*>(bytes_), size_);
  }
  own_page(const own_page&) = delete;
  own_page& operator=(const own_page&) = delete;

  // The trick: make the page writable, dirty it, then take write access away,
  // which makes the kernel flush its TLB entry on every CPU of the process.
  int shoot_down() noexcept {
    if (bytes_ == nullptr) return error_;
    void* addr = const_cast<unsigned char*>(bytes_);
    if (mprotect(addr, size_, PROT_READ | PROT_WRITE) != 0) return errno;
    bytes_[0] = static_cast<unsigned char>(bytes_[0] + 1);
    if (mprotect(addr, size_, PROT_READ) != 0) return errno;
    return 0;
  }

 private:
  volatile unsigned char* bytes_ = nullptr;
  std::size_t size_ = 0;
  int error_ = 0;
};

int mprotect_shootdown() noexcept {
  thread_local own_page page;
  return page.shoot_down();
}

const raw_barrier raw_barriers[] = {
    {strategy::membarrier_private_expedited, "membarrier(PRIVATE_EXPEDITED)", private_expedited,
     false},
    {strategy::mprotect, "mprotect RW, write, mprotect R", mprotect_shootdown, false},
    {strategy::membarrier_global, "membarrier(GLOBAL)", global, true},
};

// The command that QUERY must offer for `s`; 0 for a strategy without one.
int query_bits(strategy s) noexcept {
  switch (s) {
    case strategy::membarrier_private_expedited:
      return MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
    case strategy::membarrier_global:
      return MEMBARRIER_CMD_GLOBAL;
    default:
      return 0;
  }
}
#elif defined(_WIN32)
int flush_process_write_buffers() noexcept {
  FlushProcessWriteBuffers();
  return 0;
}

// The VirtualProtect trick on a page of the calling thread's own, for the
// same reason as own_page above.
int virtual_protect_shootdown() noexcept {
  thread_local volatile unsigned char* page = static_cast<volatile unsigned char*>(
      VirtualAlloc(nullptr, 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE));
  if (page == nullptr) return ENOMEM;
  void* addr = const_cast<unsigned char*>(page);
  DWORD old = 0;
  if (!VirtualProtect(addr, 4096, PAGE_READWRITE, &old)) return EINVAL;
  page[0] = static_cast<unsigned char>(page[0] + 1);
  if (!VirtualProtect(addr, 4096, PAGE_READONLY, &old)) return EINVAL;
  return 0;
}

const raw_barrier raw_barriers[] = {
    {strategy::flush_process_write_buffers, "FlushProcessWriteBuffers()",
     flush_process_write_buffers, false},
    {strategy::virtual_protect, "VirtualProtect RW, write, VirtualProtect R",
     virtual_protect_shootdown, false},
};
#endif

std::string failed(const char* what, int error) {
  return std::string(what) + " failed: " + std::strerror(error);
}

}  // namespace

const raw_barrier* raw_barrier_of(strategy s) noexcept {
#if defined(__linux__) || defined(_WIN32)
  for (const raw_barrier& raw : raw_barriers) {
    if (raw.mechanism == s) return &raw;
  }
#else
  (void)s;
#endif
  return nullptr;
}

long membarrier_query() noexcept {
#if defined(__linux__)
  return raw_membarrier(MEMBARRIER_CMD_QUERY);
#else
  errno = ENOSYS;
  return -1;
#endif
}

int register_private_expedited(long query_mask) noexcept {
#if defined(__linux__)
  if (query_mask < 0 || (query_mask & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0) return -1;
  return membarrier_errno(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
#else
  (void)query_mask;
  return -1;
#endif
}

bool prepare(const raw_barrier& b, std::string& why) {
#if defined(__linux__)
  if (int bits = query_bits(b.mechanism); bits != 0) {
    long mask = membarrier_query();
    if (mask < 0) {
      why = failed("membarrier QUERY", errno);
      return false;
    }
    if ((mask & bits) != bits) {
      why = std::string("membarrier QUERY does not offer ") + b.call;
      return false;
    }
    if (b.mechanism == strategy::membarrier_private_expedited) {
      if (int error = register_private_expedited(mask); error != 0) {
        why = failed("REGISTER_PRIVATE_EXPEDITED", error);
        return false;
      }
    }
    return true;
  }
#endif
  if (int error = b.issue(); error != 0) {
    why = failed(b.call, error);
    return false;
  }
  return true;
}

}  // namespace asymfence::raw
