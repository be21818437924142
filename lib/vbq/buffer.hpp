// Storage for the codec's per-coordinate arrays (code keys, symbol indices): 10^7
// elements and more, written once by several threads.
#pragma once
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace vbq {

// Hint to back [p, p + bytes) with 2 MiB pages where the OS can (Linux); a no-op
// elsewhere. Faulting a large output in 4 KiB at a time cost up to a fifth of
// quantize() on a VM.
void advise_huge_pages(void* p, size_t bytes);

// An allocator whose elements start uninitialized (default-initialized) and
// whose large buffers ask for huge pages, so that the threads that fill a
// vector fault its pages in and write them once, in parallel, instead of one
// thread zeroing them first.
template <class T>
struct UninitializedAllocator {
  using value_type = T;
  UninitializedAllocator() = default;
  template <class U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    T* p = std::allocator<T>().allocate(n);
    advise_huge_pages(p, n * sizeof(T));
    return p;
  }
  void deallocate(T* p, size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // no zeroing
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  friend bool operator==(const UninitializedAllocator&, const UninitializedAllocator&) { return true; }
};

template <class T>
using UninitializedVector = std::vector<T, UninitializedAllocator<T>>;

}  // namespace vbq
