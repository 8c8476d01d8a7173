#include "tests/testing/testing.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>

namespace nums::testing {

engine::Block MakeBlock(engine::Shape shape, std::vector<double> values) {
  auto b = engine::Block::Allocate(float64, std::move(shape));
  double* d = b.data<double>();
  for (int64_t i = 0; i < b.size(); ++i) {
    d[i] = values.empty() ? static_cast<double>(i) : values.at(static_cast<size_t>(i));
  }
  return b;
}

engine::Block Ramp(int64_t n, double start) {
  auto b = engine::Block::Allocate(float64, {n});
  for (int64_t i = 0; i < n; ++i) b.data<double>()[i] = start + static_cast<double>(i);
  return b;
}

std::vector<double> Values(const engine::Block& block) {
  if (block.dtype() != float64) throw std::invalid_argument("Values: block is not float64");
  return std::vector<double>(block.data<double>(), block.data<double>() + block.size());
}

NDArray RandomNDArray(const Shape& shape, DType dtype, uint64_t seed) {
  std::mt19937_64 rng(seed);
  NDArray out(dtype, shape);
  dispatch_all(dtype, [&](auto t) {
    using T = decltype(t);
    T* p = out.data<T>();
    for (int64_t k = 0; k < out.size(); ++k) {
      if constexpr (std::is_same_v<T, std::complex<double>>) {
        std::uniform_real_distribution<double> u(-10, 10);
        const double re = u(rng);
        p[k] = T(re, u(rng));
      } else if constexpr (std::is_same_v<T, bool>) {
        p[k] = rng() & 1;
      } else if constexpr (std::is_integral_v<T>) {
        p[k] = static_cast<T>(static_cast<int64_t>(rng() % 100) - 50);
      } else {
        p[k] = static_cast<T>(std::uniform_real_distribution<double>(-10, 10)(rng));
      }
    }
  });
  return out;
}

::testing::AssertionResult SameBytes(const NDArray& got, const NDArray& want) {
  if (got.dtype() != want.dtype()) {
    return ::testing::AssertionFailure()
           << "dtype " << dtype_name(got.dtype()) << " != expected " << dtype_name(want.dtype());
  }
  if (got.shape() != want.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << shape_str(got.shape()) << " != expected " << shape_str(want.shape());
  }
  const auto* g = static_cast<const uint8_t*>(got.raw());
  const auto* w = static_cast<const uint8_t*>(want.raw());
  for (int64_t i = 0; i < got.nbytes(); ++i) {
    if (g[i] != w[i]) {
      return ::testing::AssertionFailure()
             << "byte " << i << " (element " << i / itemsize(got.dtype())
             << ") differs: " << int{g[i]} << " != expected " << int{w[i]};
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ArrayNear(const NDArray& got, const NDArray& want, double tol) {
  if (got.shape() != want.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << shape_str(got.shape()) << " != expected " << shape_str(want.shape());
  }
  for (int64_t k = 0; k < got.size(); ++k) {
    const double g = got.value_at<double>(k), w = want.value_at<double>(k);
    if (std::isnan(w) && std::isnan(g)) continue;
    if (g == w) continue;
    if (!(std::abs(g - w) <= tol * (1 + std::abs(w)))) {
      return ::testing::AssertionFailure()
             << "element " << k << ": " << g << " != expected " << w << " (tol " << tol
             << ", shape " << shape_str(got.shape()) << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

Shape Strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (size_t d = s.size(); d-- > 0;) {
    st[d] = acc;
    acc *= s[d];
  }
  return st;
}

Shape Unravel(int64_t k, const Shape& s) {
  Shape idx(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    idx[d] = k % s[d];
    k /= s[d];
  }
  return idx;
}

namespace {

void Store(NDArray& out, int64_t k, double v) {
  dispatch(out.dtype(), [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_same_v<T, bool>) {
      out.data<T>()[k] = v != 0;
    } else {
      out.data<T>()[k] = static_cast<T>(v);
    }
  });
}

}  // namespace

NDArray RefBinary(const NDArray& a, const NDArray& b, DType dtype,
                  const std::function<double(double, double)>& f) {
  const size_t nd = std::max(a.shape().size(), b.shape().size());
  auto pad = [&](const Shape& s) {
    Shape p(nd - s.size(), 1);
    p.insert(p.end(), s.begin(), s.end());
    return p;
  };
  const Shape sa = pad(a.shape()), sb = pad(b.shape());
  Shape out_shape(nd);
  for (size_t d = 0; d < nd; ++d) out_shape[d] = sa[d] == 1 ? sb[d] : sa[d];
  NDArray out(dtype, out_shape);
  const Shape ta = Strides(sa), tb = Strides(sb);
  for (int64_t k = 0; k < out.size(); ++k) {
    const Shape idx = Unravel(k, out_shape);
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < nd; ++d) {
      ia += (sa[d] == 1 ? 0 : idx[d]) * ta[d];
      ib += (sb[d] == 1 ? 0 : idx[d]) * tb[d];
    }
    Store(out, k, f(a.value_at<double>(ia), b.value_at<double>(ib)));
  }
  return out;
}

NDArray RefUnary(const NDArray& a, DType dtype, const std::function<double(double)>& f) {
  NDArray out(dtype, a.shape());
  for (int64_t k = 0; k < a.size(); ++k) Store(out, k, f(a.value_at<double>(k)));
  return out;
}

NDArray RefReduce(const NDArray& x, std::vector<int64_t> axes, bool keepdims, DType dtype,
                  double init, const std::function<double(double, double)>& step) {
  const Shape& s = x.shape();
  Shape out_shape, kept;
  for (size_t d = 0; d < s.size(); ++d) {
    const bool r = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (!r) out_shape.push_back(s[d]);
    if (!r || keepdims) kept.push_back(r ? 1 : s[d]);
  }
  std::vector<double> acc(static_cast<size_t>(shape_size(out_shape)), init);
  const Shape os = Strides(out_shape);
  for (int64_t k = 0; k < x.size(); ++k) {
    const Shape idx = Unravel(k, s);
    int64_t o = 0;
    size_t od = 0;
    for (size_t d = 0; d < s.size(); ++d) {
      if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end()) continue;
      o += idx[d] * os[od++];
    }
    acc[static_cast<size_t>(o)] = step(acc[static_cast<size_t>(o)], x.value_at<double>(k));
  }
  NDArray out(dtype, keepdims ? kept : out_shape);
  for (size_t k = 0; k < acc.size(); ++k) Store(out, static_cast<int64_t>(k), acc[k]);
  return out;
}

}  // namespace nums::testing
