// A fixed number of objects built once, side by side in one aligned allocation (larder::detail).
//
// What a cache keeps its shards in: finding a key's shard is then an address computation from
// one pointer, not a load of the shard's own pointer (a dependent load saved on every operation).
// The objects need not be movable or default-constructible.
#pragma once

#include <cstddef>
#include <new>

namespace larder::detail {

template <class T>
class FixedArray {
 public:
  FixedArray() noexcept = default;
  /// Builds n objects into an empty array, the i-th as make(i) returns it (guaranteed copy
  /// elision: T need not move). If one throws, the array is left empty and the exception
  /// propagates.
  template <class Make>
  void build(std::size_t n, Make&& make) {
    data_ = static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{alignof(T)}));
    try {
      for (; size_ < n; ++size_) ::new (static_cast<void*>(data_ + size_)) T(make(size_));
    } catch (...) {
      destroy();
      throw;
    }
  }
  ~FixedArray() { destroy(); }
  FixedArray(const FixedArray&) = delete;
  FixedArray& operator=(const FixedArray&) = delete;

  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T* begin() const noexcept { return data_; }
  T* end() const noexcept { return data_ + size_; }

 private:
  void destroy() noexcept {
    while (size_ > 0) data_[--size_].~T();
    if (data_) ::operator delete (data_, std::align_val_t{alignof(T)});
    data_ = nullptr;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace larder::detail
