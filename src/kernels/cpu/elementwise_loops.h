#pragma once
// The binary and unary elementwise loops of array.binary and array.unary, per dtype. Each
// dtype's instances are heavy (every op, four broadcast cases), so they are split over
// translation units that build in parallel: elementwise.cc holds the dtypes nums started with,
// elementwise_ints.cc the narrower and unsigned integers (declared extern below).

#include <emmintrin.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "engine/block.h"
#include "src/kernels/cpu/loops.h"
#include "src/kernels/ops.h"

namespace nums::kernels {

using engine::Block;

constexpr int64_t kStreamMin = int64_t{1} << 15;  // elements (256 KiB of float64)

// Writes gen(0..n) to z. Long float64 runs bypass the cache with streaming stores: the output is
// not read again soon, and a normal store first reads the line it overwrites (a third of the
// traffic of a memory-bound x * y).
template <typename O, typename Gen>
void WriteRun(O* z, int64_t n, Gen gen) {
  int64_t i = 0;
  if constexpr (std::is_same_v<O, double>) {
    if (n >= kStreamMin) {
      for (; i < n && (reinterpret_cast<uintptr_t>(z + i) & 15) != 0; ++i) z[i] = gen(i);
      for (; i + 2 <= n; i += 2) _mm_stream_pd(z + i, _mm_set_pd(gen(i + 1), gen(i)));
      _mm_sfence();
    }
  }
  for (; i < n; ++i) z[i] = gen(i);
}

template <BinaryOp Op, typename T>
Block BinaryBlock(const Block& a, const Block& b, const Shape& shape) {
  using F = Binary<Op, T>;
  using O = typename F::Out;
  Block out = Block::Allocate(dtype_of<O>(), shape);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  O* po = out.data<O>();
  BroadcastRuns<2>(shape, {a.shape(), b.shape()},
                   [&](int64_t o, int64_t n, std::array<int64_t, 2> s, std::array<int64_t, 2> st) {
                     const T* x = pa + s[0];
                     const T* y = pb + s[1];
                     O* z = po + o;
                     if (st[0] == 1 && st[1] == 1) {
                       WriteRun(z, n, [&](int64_t i) { return F::Apply(x[i], y[i]); });
                     } else if (st[0] == 1) {
                       const T yv = *y;
                       WriteRun(z, n, [&](int64_t i) { return F::Apply(x[i], yv); });
                     } else if (st[1] == 1) {
                       const T xv = *x;
                       WriteRun(z, n, [&](int64_t i) { return F::Apply(xv, y[i]); });
                     } else {
                       const O v = F::Apply(*x, *y);
                       for (int64_t i = 0; i < n; ++i) z[i] = v;
                     }
                   });
  return out;
}

template <typename T>
Block BinaryDispatch(BinaryOp op, const Block& a, const Block& b, const Shape& shape) {
  switch (op) {
#define NUMS_CASE(name) \
  case BinaryOp::name:  \
    return BinaryBlock<BinaryOp::name, T>(a, b, shape);
    NUMS_BINARY_OPS(NUMS_CASE)
#undef NUMS_CASE
  }
  throw ValueError("unknown binary op " + std::to_string(static_cast<int64_t>(op)));
}

template <UnaryOp Op, typename T>
Block UnaryBlock(const Block& x) {
  using F = Unary<Op, T>;
  using O = typename F::Out;
  Block out = Block::Allocate(dtype_of<O>(), x.shape());
  const T* px = x.data<T>();
  O* po = out.data<O>();
  ParallelRanges(x.size(), kElementGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) po[i] = F::Apply(px[i]);
  });
  return out;
}

template <typename T>
Block UnaryDispatch(UnaryOp op, const Block& x) {
  switch (op) {
#define NUMS_CASE(name) \
  case UnaryOp::name:   \
    return UnaryBlock<UnaryOp::name, T>(x);
    NUMS_UNARY_OPS(NUMS_CASE)
#undef NUMS_CASE
  }
  throw ValueError("unknown unary op " + std::to_string(static_cast<int64_t>(op)));
}

#define NUMS_ELEMENTWISE_EXTERN(T)                                                             \
  extern template Block BinaryDispatch<T>(BinaryOp, const Block&, const Block&, const Shape&); \
  extern template Block UnaryDispatch<T>(UnaryOp, const Block&);
NUMS_ELEMENTWISE_EXTERN(int8_t)
NUMS_ELEMENTWISE_EXTERN(int16_t)
NUMS_ELEMENTWISE_EXTERN(uint8_t)
NUMS_ELEMENTWISE_EXTERN(uint16_t)
NUMS_ELEMENTWISE_EXTERN(uint32_t)
NUMS_ELEMENTWISE_EXTERN(uint64_t)
#undef NUMS_ELEMENTWISE_EXTERN

}  // namespace nums::kernels
