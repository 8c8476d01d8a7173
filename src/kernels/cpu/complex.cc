// complex128 CPU kernels: the elementwise ops and sums NumPy has complex loops for, and the
// parts of a complex block (real, imag, conj, abs). The array layer routes complex blocks here
// from array.binary, array.unary and array.reduce; complex expressions are never fused.

#include <cmath>
#include <complex>
#include <limits>

#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"
#include "src/kernels/ops.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;
using C = std::complex<double>;

bool HasNan(C z) { return std::isnan(z.real()) || std::isnan(z.imag()); }

// The arithmetic NumPy's complex loops do, spelled out: std::complex's operators recover
// infinities from NaN (C99 Annex G), which NumPy's loops do not.
C Mul(C a, C b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}
// Smith's division, as NumPy's loop: no overflow of |b|^2; a zero divisor gives inf or NaN parts.
C Div(C a, C b) {
  const double br = std::abs(b.real()), bi = std::abs(b.imag());
  if (br >= bi) {
    if (br == 0.0 && bi == 0.0) return {a.real() / br, a.imag() / br};
    const double rat = b.imag() / b.real(), scl = 1.0 / (b.real() + b.imag() * rat);
    return {(a.real() + a.imag() * rat) * scl, (a.imag() - a.real() * rat) * scl};
  }
  const double rat = b.real() / b.imag(), scl = 1.0 / (b.imag() + b.real() * rat);
  return {(a.real() * rat + a.imag()) * scl, (a.imag() * rat - a.real()) * scl};
}

// NumPy's order of complex numbers: by real part, then by imaginary part; a NaN imaginary part
// takes no part in a decision by the real parts.
bool Less(C a, C b) {
  const bool parts = !std::isnan(a.imag()) && !std::isnan(b.imag());
  return (a.real() < b.real() && parts) || (a.real() == b.real() && a.imag() < b.imag());
}
bool LessEqual(C a, C b) {
  const bool parts = !std::isnan(a.imag()) && !std::isnan(b.imag());
  return (a.real() < b.real() && parts) || (a.real() == b.real() && a.imag() <= b.imag());
}

// a ** b as NumPy computes it: 0 ** b by its limit, small integer exponents by repeated
// multiplication, the rest by the C library's cpow.
C Power(C a, C b) {
  if (b.real() == 0.0 && b.imag() == 0.0) return {1.0, 0.0};
  if (a.real() == 0.0 && a.imag() == 0.0) {
    if (b.real() > 0.0 && b.imag() == 0.0) return {0.0, 0.0};
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan};
  }
  if (b.imag() == 0.0 && b.real() == std::trunc(b.real()) && std::abs(b.real()) < 100.0) {
    const auto n = static_cast<int64_t>(b.real());
    if (n == 1) return a;
    if (n == 2) return Mul(a, a);
    if (n == 3) return Mul(a, Mul(a, a));
    C r{1.0, 0.0}, p = a;
    for (int64_t m = n < 0 ? -n : n, bit = 1;; bit <<= 1) {
      if (m & bit) r = Mul(r, p);
      if (m < (bit << 1)) break;
      p = Mul(p, p);
    }
    return n < 0 ? Div({1.0, 0.0}, r) : r;
  }
  return std::pow(a, b);
}

C BinaryValue(BinaryOp op, C a, C b) {
  switch (op) {
    case BinaryOp::kAdd:
      return {a.real() + b.real(), a.imag() + b.imag()};
    case BinaryOp::kSub:
      return {a.real() - b.real(), a.imag() - b.imag()};
    case BinaryOp::kMul:
      return Mul(a, b);
    case BinaryOp::kDiv:
      return Div(a, b);
    case BinaryOp::kPow:
      return Power(a, b);
    case BinaryOp::kMaximum:  // a NaN in a wins, as in NumPy
      return HasNan(a) || LessEqual(b, a) ? a : b;
    case BinaryOp::kMinimum:
      return HasNan(a) || LessEqual(a, b) ? a : b;
    default:
      throw_complex(OpName(op));
  }
}

bool BinaryTruth(BinaryOp op, C a, C b) {
  const bool ta = a != C{}, tb = b != C{};
  switch (op) {
    case BinaryOp::kEq:
      return a == b;
    case BinaryOp::kNe:
      return a != b;
    case BinaryOp::kLt:
      return Less(a, b);
    case BinaryOp::kLe:
      return LessEqual(a, b);
    case BinaryOp::kGt:
      return Less(b, a);
    case BinaryOp::kGe:
      return LessEqual(b, a);
    case BinaryOp::kLogicalAnd:
      return ta && tb;
    case BinaryOp::kLogicalOr:
      return ta || tb;
    case BinaryOp::kLogicalXor:
      return ta != tb;
    default:
      throw_complex(OpName(op));
  }
}

// z / |z| as NumPy 2's loop (the array API standard's sign): 0 for 0; by |z| = hypot(re, im),
// NaN when it is NaN, and for an infinite |z| a unit along the one infinite part (NaN for two).
C Sign(C z) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double re = z.real(), im = z.imag();
  const double m = std::hypot(re, im);
  if (std::isnan(m)) return {nan, nan};
  if (std::isinf(m)) {
    if (std::isinf(re)) return std::isinf(im) ? C{nan, nan} : C{re > 0 ? 1.0 : -1.0, 0.0};
    return {0.0, im > 0 ? 1.0 : -1.0};
  }
  return m == 0.0 ? C{} : C{re / m, im / m};
}

C UnaryValue(UnaryOp op, C z) {
  constexpr double kLn2 = 0.69314718055994530942;
  constexpr double kLog2E = 1.44269504088896340736;
  constexpr double kLog10E = 0.43429448190325182765;
  const double re = z.real(), im = z.imag();
  switch (op) {
    case UnaryOp::kNeg:
      return {-re, -im};
    case UnaryOp::kExp:
      return std::exp(z);
    case UnaryOp::kLog:
      return std::log(z);
    case UnaryOp::kLog1p:  // as NumPy: log|1 + z| + i arg(1 + z)
      return {std::log(std::hypot(re + 1, im)), std::atan2(im, re + 1)};
    case UnaryOp::kSqrt:
      return std::sqrt(z);
    case UnaryOp::kSign:
      return Sign(z);
    case UnaryOp::kSin:
      return std::sin(z);
    case UnaryOp::kCos:
      return std::cos(z);
    case UnaryOp::kTan:
      return std::tan(z);
    case UnaryOp::kTanh:
      return std::tanh(z);
    case UnaryOp::kSinh:
      return std::sinh(z);
    case UnaryOp::kCosh:
      return std::cosh(z);
    case UnaryOp::kArcsin:
      return std::asin(z);
    case UnaryOp::kArccos:
      return std::acos(z);
    case UnaryOp::kArctan:
      return std::atan(z);
    case UnaryOp::kArcsinh:
      return std::asinh(z);
    case UnaryOp::kArccosh:
      return std::acosh(z);
    case UnaryOp::kArctanh:
      return std::atanh(z);
    case UnaryOp::kSquare:
      return Mul(z, z);
    case UnaryOp::kReciprocal:  // NumPy's loop: Smith's division of 1 by z
      if (std::abs(im) <= std::abs(re)) {
        const double r = im / re, d = re + im * r;
        return {1.0 / d, -r / d};
      } else {
        const double r = re / im, d = re * r + im;
        return {r / d, -1.0 / d};
      }
    case UnaryOp::kExpm1: {  // exp(z) - 1 without the cancellation near 0, as NumPy
      const double s = std::sin(im / 2);
      return {std::expm1(re) * std::cos(im) - 2 * s * s, std::exp(re) * std::sin(im)};
    }
    case UnaryOp::kLog2: {
      const C l = std::log(z);
      return {l.real() * kLog2E, l.imag() * kLog2E};
    }
    case UnaryOp::kLog10: {
      const C l = std::log(z);
      return {l.real() * kLog10E, l.imag() * kLog10E};
    }
    case UnaryOp::kExp2:
      return std::exp(C{re * kLn2, im * kLn2});
    case UnaryOp::kRint:
      return {std::nearbyint(re), std::nearbyint(im)};
    default:
      throw_complex(OpName(op));
  }
}

bool UnaryTruth(UnaryOp op, C z) {
  switch (op) {
    case UnaryOp::kIsNan:
      return HasNan(z);
    case UnaryOp::kIsFinite:
      return std::isfinite(z.real()) && std::isfinite(z.imag());
    case UnaryOp::kIsInf:
      return std::isinf(z.real()) || std::isinf(z.imag());
    case UnaryOp::kLogicalNot:
      return z == C{};
    default:
      throw_complex(OpName(op));
  }
}

// out[i] = f(a[i], b[i]) over the broadcast of a and b to `shape`.
template <typename O, typename F>
Block Broadcast2(const Block& a, const Block& b, const Shape& shape, DType out_dtype, F f) {
  Block out = Block::Allocate(out_dtype, shape);
  const C* pa = a.data<C>();
  const C* pb = b.data<C>();
  O* po = out.data<O>();
  BroadcastRuns<2>(shape, {a.shape(), b.shape()},
                   [&](int64_t o, int64_t n, std::array<int64_t, 2> s, std::array<int64_t, 2> st) {
                     for (int64_t i = 0; i < n; ++i) {
                       po[o + i] = f(pa[s[0] + i * st[0]], pb[s[1] + i * st[1]]);
                     }
                   });
  return out;
}

template <typename O, typename F>
Block Map(const Block& x, DType out_dtype, F f) {
  Block out = Block::Allocate(out_dtype, x.shape());
  const C* px = x.data<C>();
  O* po = out.data<O>();
  ParallelRanges(x.size(), kElementGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) po[i] = f(px[i]);
  });
  return out;
}

}  // namespace

Block ComplexBinary(BinaryOp op, const Block& a, const Block& b, const Shape& shape) {
  if (!HasComplexLoop(op)) throw_complex(OpName(op));
  if (HasBoolResult(op)) {
    return Broadcast2<bool>(a, b, shape, DType::kBool,
                            [op](C x, C y) { return BinaryTruth(op, x, y); });
  }
  return Broadcast2<C>(a, b, shape, DType::kComplex128,
                       [op](C x, C y) { return BinaryValue(op, x, y); });
}

Block ComplexUnary(UnaryOp op, const Block& x) {
  if (!HasComplexLoop(op)) throw_complex(OpName(op));
  if (op == UnaryOp::kAbs) {
    return Map<double>(x, DType::kFloat64, [](C z) { return std::abs(z); });
  }
  if (HasBoolResult(op)) return Map<bool>(x, DType::kBool, [op](C z) { return UnaryTruth(op, z); });
  return Map<C>(x, DType::kComplex128, [op](C z) { return UnaryValue(op, z); });
}

Block ComplexReduce(ReduceOp op, const Block& x, const std::vector<bool>& reduced, bool keepdims) {
  const bool extreme = op == ReduceOp::kMin || op == ReduceOp::kMax;
  if (op != ReduceOp::kSum && op != ReduceOp::kProd && !extreme) throw_complex("array.reduce");
  const Shape& shape = x.shape();
  const size_t nd = shape.size();
  Shape out_shape, ostride(nd, 0);
  int64_t s = 1;
  for (size_t d = nd; d-- > 0;) {
    if (!reduced[d]) {
      ostride[d] = s;
      s *= shape[d];
    }
  }
  for (size_t d = 0; d < nd; ++d) {
    if (!reduced[d]) {
      out_shape.push_back(shape[d]);
    } else if (keepdims) {
      out_shape.push_back(1);
    }
  }
  Block out = Block::Allocate(DType::kComplex128, out_shape);
  C* po = out.data<C>();
  const C identity = op == ReduceOp::kSum ? C{0.0, 0.0} : C{1.0, 0.0};
  for (int64_t i = 0; i < out.size(); ++i) po[i] = identity;
  std::vector<bool> seen(extreme ? static_cast<size_t>(out.size()) : 0, false);
  const BinaryOp step = op == ReduceOp::kSum    ? BinaryOp::kAdd
                        : op == ReduceOp::kProd ? BinaryOp::kMul
                        : op == ReduceOp::kMin  ? BinaryOp::kMinimum
                                                : BinaryOp::kMaximum;
  const C* px = x.data<C>();
  Shape idx(nd, 0);
  for (int64_t k = 0; k < x.size(); ++k) {
    int64_t o = 0;
    for (size_t d = 0; d < nd; ++d) o += idx[d] * ostride[d];
    if (extreme && !seen[static_cast<size_t>(o)]) {  // no identity: the first element starts
      seen[static_cast<size_t>(o)] = true;
      po[o] = px[k];
    } else {
      po[o] = BinaryValue(step, po[o], px[k]);
    }
    for (size_t d = nd; d-- > 0;) {  // the next index, row-major
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

void RegisterComplexKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [x (complex128)]; scalars [part]: 0 the real part, 1 the imaginary part (float64),
  // 2 the complex conjugate.
  registry.Register("array.complex_part", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    if (x.dtype() != DType::kComplex128) {
      throw DTypeError("array.complex_part: a complex128 block (the array layer passes others by)");
    }
    switch (ctx.scalar<int64_t>(0)) {
      case 0:
        return std::vector<Block>{Map<double>(x, DType::kFloat64, [](C z) { return z.real(); })};
      case 1:
        return std::vector<Block>{Map<double>(x, DType::kFloat64, [](C z) { return z.imag(); })};
      case 2:
        return std::vector<Block>{Map<C>(x, DType::kComplex128, [](C z) { return std::conj(z); })};
      default:
        throw ValueError("array.complex_part: part " + std::to_string(ctx.scalar<int64_t>(0)) +
                         " is not 0 (real), 1 (imag) or 2 (conj)");
    }
  });
  // inputs [re, im] of float64, broadcast: re + im * 1j.
  registry.Register("array.complex_make", Device::kCpu, [](const KernelContext& ctx) {
    const Block& re = ctx.inputs[0];
    const Block& im = ctx.inputs[1];
    if (re.dtype() != DType::kFloat64 || im.dtype() != DType::kFloat64) {
      throw DTypeError("array.complex_make: two float64 blocks (the array layer casts first)");
    }
    Shape shape;
    if (!BroadcastShapes({re.shape(), im.shape()}, shape)) {
      throw ShapeError("array.complex_make: shapes " + engine::ShapeToString(re.shape()) + " " +
                       engine::ShapeToString(im.shape()) + " do not broadcast");
    }
    Block out = Block::Allocate(DType::kComplex128, shape);
    const double* pr = re.data<double>();
    const double* pi = im.data<double>();
    C* po = out.data<C>();
    BroadcastRuns<2>(
        shape, {re.shape(), im.shape()},
        [&](int64_t o, int64_t n, std::array<int64_t, 2> s, std::array<int64_t, 2> st) {
          for (int64_t i = 0; i < n; ++i) po[o + i] = C{pr[s[0] + i * st[0]], pi[s[1] + i * st[1]]};
        });
    return std::vector<Block>{out};
  });
}

}  // namespace nums::kernels
