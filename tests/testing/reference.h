#pragma once
// Dense references for shape manipulation and indexing: plain loops over NDArray indices.

#include <cstdint>
#include <functional>
#include <vector>

#include "nums/ndarray.hpp"

namespace nums::testing {

/// The multi-index of row-major position k in `shape`.
inline Shape Unravel(int64_t k, const Shape& shape) {
  Shape idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = k % shape[d];
    k /= shape[d];
  }
  return idx;
}

/// The row-major position of `idx` in `shape`.
inline int64_t Ravel(const Shape& idx, const Shape& shape) {
  int64_t k = 0;
  for (size_t d = 0; d < shape.size(); ++d) k = k * shape[d] + idx[d];
  return k;
}

/// An array of `shape` and x's dtype whose element at i is x's element at source(i).
inline NDArray RefMap(const NDArray& x, const Shape& shape,
                      const std::function<Shape(const Shape&)>& source) {
  NDArray out(x.dtype(), shape);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    for (int64_t k = 0; k < out.size(); ++k)
      po[k] = px[Ravel(source(Unravel(k, shape)), x.shape())];
  });
  return out;
}

/// The outer-product selection x[lists[0], lists[1], ...] (one index list per axis), seen with
/// `shape` (which may drop or add axes of length 1).
inline NDArray RefSelect(const NDArray& x, const std::vector<std::vector<int64_t>>& lists,
                         const Shape& shape) {
  Shape sel;
  for (const auto& l : lists) sel.push_back(static_cast<int64_t>(l.size()));
  return RefMap(x, sel,
                [&](const Shape& i) {
                  Shape src(i.size());
                  for (size_t d = 0; d < i.size(); ++d)
                    src[d] = lists[d][static_cast<size_t>(i[d])];
                  return src;
                })
      .reshape(shape);
}

/// 0, 1, ..., n - 1.
inline std::vector<int64_t> Range(int64_t n) {
  std::vector<int64_t> r(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) r[static_cast<size_t>(i)] = i;
  return r;
}

}  // namespace nums::testing
