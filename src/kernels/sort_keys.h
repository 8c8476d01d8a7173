#pragma once
// Sort keys: every element mapped to an unsigned 64-bit integer whose order is NumPy's sort order
// (NaN after +inf; descending reverses the order, NaN first), so that one stable radix sort, one
// splitter comparison and one binary search serve every dtype.

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace nums::kernels {

/// How elements become keys. `merge_zeros` gives -0.0 the key of 0.0 (NumPy compares them
/// equal, so a stable sort keeps them in index order); without it -0.0 sorts just before 0.0 and
/// comes back from FromSortKey with its sign. NaNs all share the largest key either way.
struct KeyOrder {
  bool descending = false;
  bool merge_zeros = false;
};

template <typename T>
inline uint64_t SortKey(T v, KeyOrder order) {
  uint64_t k = 0;
  if constexpr (std::is_same_v<T, bool>) {
    k = v ? 1 : 0;
  } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
    k = v;
  } else if constexpr (std::is_integral_v<T>) {
    // Flipping the sign bit maps the signed order onto the unsigned one.
    using U = std::make_unsigned_t<T>;
    k = static_cast<U>(static_cast<U>(v) ^ (U{1} << (sizeof(T) * 8 - 1)));
  } else {
    // IEEE floats: positive values get the sign bit set, negative ones all bits flipped, so the
    // unsigned order is the numeric order; NaN (of either sign) above +inf.
    using U = std::conditional_t<std::is_same_v<T, float>, uint32_t, uint64_t>;
    constexpr U kSign = U{1} << (sizeof(U) * 8 - 1);
    if (std::isnan(v)) {
      k = std::numeric_limits<U>::max();
    } else {
      U u = std::bit_cast<U>(v);
      if (order.merge_zeros && v == T(0)) u = 0;
      k = (u & kSign) ? static_cast<U>(~u) : static_cast<U>(u | kSign);
    }
  }
  return order.descending ? ~k : k;
}

/// The element whose key is `k` (NaN for the NaN key; 0.0 for a merged zero).
template <typename T>
inline T FromSortKey(uint64_t k, KeyOrder order) {
  if (order.descending) k = ~k;
  if constexpr (std::is_same_v<T, bool>) {
    return k != 0;
  } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
    return static_cast<T>(k);
  } else if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(k) ^ (U{1} << (sizeof(T) * 8 - 1))));
  } else {
    using U = std::conditional_t<std::is_same_v<T, float>, uint32_t, uint64_t>;
    constexpr U kSign = U{1} << (sizeof(U) * 8 - 1);
    const auto u = static_cast<U>(k);
    if (u == std::numeric_limits<U>::max()) return std::numeric_limits<T>::quiet_NaN();
    return std::bit_cast<T>((u & kSign) ? static_cast<U>(u & ~kSign) : static_cast<U>(~u));
  }
}

/// Sorts keys[0, n) ascending, stably, moving payload (when not null) along; tmp_keys and
/// tmp_payload are scratch of n elements each. Least-significant-digit radix sort on bytes,
/// skipping the bytes all keys share.
void RadixSort(uint64_t* keys, int64_t* payload, int64_t n, uint64_t* tmp_keys,
               int64_t* tmp_payload);

}  // namespace nums::kernels
