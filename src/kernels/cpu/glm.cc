// GLM CPU kernels: per-block sums of the loss, gradient and Hessian of a generalised linear model
// (the Gram matrix is the Gaussian case), predictions, input checks and synthetic data.
//
// A row block X_i (n_i x d, row-major float64) with its labels y_i gives, for the linear predictor
// eta = X_i w + b and the family's mean mu(eta) and weight mu'(eta):
//   loss_i = sum_r l(y_r, eta_r),  g_i = X_aug^T (mu - y),  H_i = X_aug^T diag(mu') X_aug
// where X_aug = [X_i, 1] when the model fits an intercept. The rows are processed in chunks of a
// few hundred (TBB-parallel, deterministic split): OpenBLAS gemv for eta and the gradient, the
// family's terms in vectorised loops, and the Hessian by a register-blocked rank update of the
// chunk, so the only scratch is a chunk of mu' * x rows per thread.

#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include "src/kernels/cpu/blas.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"
#include "src/kernels/glm_args.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::KernelContext;

constexpr int64_t kChunkRows = 512;
// Rows a TBB task takes at least: each task copies the partial sums (a Hessian) once, so tasks
// are coarse; fixed, so that the sums' order (and so their rounding) is the same on any machine.
constexpr int64_t kGrainRows = 16 * kChunkRows;

// Columns of the Hessian's tiles: the chunk copies are padded to a multiple of it with zeros.
constexpr int64_t kTile = 8;
int64_t Padded(int64_t d) { return (d + kTile - 1) / kTile * kTile; }

// Sums over some rows of a block (d features, intercept column not included).
struct Sums {
  int64_t dp = 0;           // d rounded up to kTile
  std::vector<double> xwx;  // dp x dp row-major, upper triangle (i <= j): sum_r w_r x_r x_r^T
  std::vector<double> xw;   // sum_r w_r x_r
  std::vector<double> xv;   // sum_r v_r x_r, with v = mu - y
  double w = 0, v = 0, loss = 0;

  Sums(int64_t d, bool with_hessian)
      : dp(Padded(d)),
        xwx(with_hessian ? static_cast<size_t>(dp * dp) : 0),
        xw(with_hessian ? static_cast<size_t>(d) : 0),
        xv(static_cast<size_t>(d)) {}
  Sums& operator+=(const Sums& o) {
    for (size_t k = 0; k < xwx.size(); ++k) xwx[k] += o.xwx[k];
    for (size_t k = 0; k < xw.size(); ++k) xw[k] += o.xw[k];
    for (size_t k = 0; k < xv.size(); ++k) xv[k] += o.xv[k];
    w += o.w;
    v += o.v;
    loss += o.loss;
    return *this;
  }
};

double Sigmoid(double x) {
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}

// e^x for x <= 0, branch-free so that loops over it vectorise: x = k ln 2 + r with |r| <= ln 2 / 2,
// e^r by its Taylor polynomial to degree 13 (truncation below 1e-17 relative), 2^k from the
// exponent bits. Below -708 the result is 0 (e^-708 is near the smallest normal double), so a row
// far from the boundary gets weight 0, never a NaN. Within 2 ulp of std::exp.
inline double ExpNonPositive(double x) {
  constexpr double kShift = 0x1.8p52;  // adding it rounds to an integer kept in the low bits
  constexpr double kLog2e = 1.4426950408889634074;
  constexpr double kLn2Hi = 0x1.62e42fefa3800p-1;  // ln 2 split so that k * kLn2Hi is exact
  constexpr double kLn2Lo = 0x1.ef35793c76730p-45;
  const double xc = x < -708.0 ? -708.0 : x;
  const double t = xc * kLog2e + kShift;
  const double k = t - kShift;
  const double r = (xc - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // The low bits of t hold k (-1022 <= k <= 0); k + 1023 is the biased exponent of 2^k.
  const uint64_t bits = (std::bit_cast<uint64_t>(t) + 1023) << 52;
  const double e = p * std::bit_cast<double>(bits);
  return x < -708.0 ? 0.0 : e;
}

// log(1 + e) for 0 <= e <= 1: 2 atanh(z) with z = e / (2 + e) <= 1/3, whose odd series in z
// converges by 1/9 a term (16 terms: below 2e-17 relative). Branch-free; within 2 ulp of log1p.
inline double Log1pUnit(double e) {
  const double z = e / (2.0 + e);
  const double u = z * z;
  double p = 1.0 / 31;
  p = p * u + 1.0 / 29;
  p = p * u + 1.0 / 27;
  p = p * u + 1.0 / 25;
  p = p * u + 1.0 / 23;
  p = p * u + 1.0 / 21;
  p = p * u + 1.0 / 19;
  p = p * u + 1.0 / 17;
  p = p * u + 1.0 / 15;
  p = p * u + 1.0 / 13;
  p = p * u + 1.0 / 11;
  p = p * u + 1.0 / 9;
  p = p * u + 1.0 / 7;
  p = p * u + 1.0 / 5;
  p = p * u + 1.0 / 3;
  p = p * u + 1.0;
  return 2.0 * z * p;
}

// The logistic family's row terms for c rows at eta (+ intercept): v = mu - y, w = mu' and, with
// `loss`, each row's loss. One exponential and one logarithm a row: with e = e^-|eta|, both
// sigmoids are 1 / (1 + e) and e / (1 + e), and both softplus terms max(+-eta, 0) + log1p(e), so
// nothing cancels for large |eta| (for y = 1 and eta = 30, s(eta) - 1 would keep 5 digits).
// Compiled for AVX-512, AVX2 and the baseline, chosen when the program loads.
[[gnu::target_clones("avx512f", "avx2", "default")]] void LogisticRows(const double* eta,
                                                                       double intercept,
                                                                       const double* y, int64_t c,
                                                                       double* v, double* w,
                                                                       double* loss) {
  for (int64_t r = 0; r < c; ++r) {
    const double t = eta[r] + intercept;
    const double e = ExpNonPositive(-std::abs(t));
    const double inv = 1.0 / (1.0 + e);
    const double big = t >= 0 ? inv : e * inv;    // s(t)
    const double small = t >= 0 ? e * inv : inv;  // s(-t) = 1 - s(t)
    v[r] = (1.0 - y[r]) * big - y[r] * small;
    w[r] = e * inv * inv;
    if (loss != nullptr) {
      const double l = Log1pUnit(e);
      loss[r] = (1.0 - y[r]) * (std::max(t, 0.0) + l) + y[r] * (std::max(-t, 0.0) + l);
    }
  }
}

// Per-row terms of the other families at eta: v = mu - y, w = mu', and the row's loss (logistic
// rows go through LogisticRows).
double RowTerms(GlmFamily family, double eta, double y, double& v, double& w) {
  switch (family) {
    case GlmFamily::kGaussian:
      v = eta - y;
      w = 1;
      return 0.5 * v * v;
    case GlmFamily::kLogistic:
      break;
    case GlmFamily::kPoisson: {
      const double mu = std::exp(eta);
      v = mu - y;
      w = mu;
      return mu - y * eta;
    }
  }
  throw ValueError("unknown GLM family " + std::to_string(static_cast<int64_t>(family)));
}

double InverseLink(GlmFamily family, double eta) {
  switch (family) {
    case GlmFamily::kGaussian:
      return eta;
    case GlmFamily::kLogistic:
      return Sigmoid(eta);
    case GlmFamily::kPoisson:
      return std::exp(eta);
  }
  throw ValueError("unknown GLM family " + std::to_string(static_cast<int64_t>(family)));
}

// Eight doubles as one value (GCC's vector extension): one AVX-512 register, two AVX2 ones.
using V8 = double __attribute__((vector_size(8 * sizeof(double))));

// h (dp x dp row-major, upper tiles) += sum_r a_r^T b_r over c rows of a and b (c x dp): an 8 x 8
// tile of h is held in eight vector registers while the rows stream past, each row feeding it
// with one load of b and eight broadcasts of a. Rows go in groups small enough for a and b to stay
// in L1 while every tile passes over them. A register-blocked rank-c update: on chunks of a few
// hundred rows it runs near the FMA units' rate, where a syrk of 32 x 512 runs far below it.
[[gnu::target_clones("avx512f", "avx2", "default")]] void WeightedGram(const double* a,
                                                                       const double* b, int64_t c,
                                                                       int64_t dp, double* h) {
  static_assert(kTile == 8);
  // Two rows of dp doubles per row of the group within half of a 48 KiB L1.
  const int64_t group = std::max<int64_t>(8, 24576 / (16 * dp));
  for (int64_t r0 = 0; r0 < c; r0 += group) {
    const int64_t r1 = std::min(c, r0 + group);
    for (int64_t i0 = 0; i0 < dp; i0 += kTile) {
      for (int64_t j0 = i0; j0 < dp; j0 += kTile) {
        V8 acc[kTile];
        for (int ii = 0; ii < kTile; ++ii)
          std::memcpy(&acc[ii], h + (i0 + ii) * dp + j0, sizeof(V8));
        for (int64_t r = r0; r < r1; ++r) {
          const double* ar = a + r * dp + i0;
          V8 bv;
          std::memcpy(&bv, b + r * dp + j0, sizeof(bv));
          for (int ii = 0; ii < kTile; ++ii) acc[ii] += ar[ii] * bv;
        }
        for (int ii = 0; ii < kTile; ++ii)
          std::memcpy(h + (i0 + ii) * dp + j0, &acc[ii], sizeof(V8));
      }
    }
  }
}

// Adds rows [b, e) of x (n x d) and y to `s`. `coef` null means w = 0, b = 0 (no gemv). Without
// `with_loss` the loss is left out (IRLS steps do not need it).
void AccumulateChunk(GlmFamily family, const double* x, const double* y, const double* sw,
                     int64_t d, int64_t b, int64_t e, const double* coef, double intercept,
                     bool with_hessian, bool with_loss, Sums& s) {
  const int64_t c = e - b;
  const int64_t dp = s.dp;
  const bool pad = dp != d;
  const double* xc = x + b * d;
  thread_local std::vector<double> scratch;
  scratch.resize(
      static_cast<size_t>(4 * kChunkRows + (with_hessian ? (pad ? 2 : 1) * kChunkRows * dp : 0)));
  double* eta = scratch.data();
  double* v = eta + kChunkRows;
  double* w = v + kChunkRows;
  double* loss = w + kChunkRows;
  double* scaled = loss + kChunkRows;         // w_r x_r, padded to dp columns
  double* padded = scaled + kChunkRows * dp;  // x_r padded to dp columns (when d < dp)
  if (coef) {
    cblas_dgemv(CblasRowMajor, CblasNoTrans, AsBlasInt(c), AsBlasInt(d), 1.0, xc, AsBlasInt(d),
                coef, 1, 0.0, eta, 1);
  } else {
    std::fill(eta, eta + c, 0.0);
  }
  if (family == GlmFamily::kLogistic) {
    LogisticRows(eta, intercept, y + b, c, v, w, with_loss ? loss : nullptr);
  } else {
    for (int64_t r = 0; r < c; ++r) {
      loss[r] = RowTerms(family, eta[r] + intercept, y[b + r], v[r], w[r]);
    }
  }
  if (sw != nullptr) {  // sample weights scale each row's loss, gradient and Hessian terms
    for (int64_t r = 0; r < c; ++r) {
      v[r] *= sw[b + r];
      w[r] *= sw[b + r];
      loss[r] *= sw[b + r];
    }
  }
  for (int64_t r = 0; r < c; ++r) s.v += v[r];
  if (with_loss) {
    for (int64_t r = 0; r < c; ++r) s.loss += loss[r];
  }
  cblas_dgemv(CblasRowMajor, CblasTrans, AsBlasInt(c), AsBlasInt(d), 1.0, xc, AsBlasInt(d), v, 1,
              1.0, s.xv.data(), 1);
  if (!with_hessian) return;
  for (int64_t r = 0; r < c; ++r) s.w += w[r];
  cblas_dgemv(CblasRowMajor, CblasTrans, AsBlasInt(c), AsBlasInt(d), 1.0, xc, AsBlasInt(d), w, 1,
              1.0, s.xw.data(), 1);
  for (int64_t r = 0; r < c; ++r) {
    const double* xr = xc + r * d;
    double* sr = scaled + r * dp;
    for (int64_t j = 0; j < d; ++j) sr[j] = w[r] * xr[j];
    for (int64_t j = d; j < dp; ++j) sr[j] = 0.0;
    if (pad) {
      double* pr = padded + r * dp;
      std::copy(xr, xr + d, pr);
      std::fill(pr + d, pr + dp, 0.0);
    }
  }
  WeightedGram(scaled, pad ? padded : xc, c, dp, s.xwx.data());
}

// The packed result [loss, g (p), H (p x p, row-major, when with_hessian)], p = d + intercept.
Block Pack(const Sums& s, int64_t d, bool fit_intercept, bool with_hessian) {
  const int64_t p = d + (fit_intercept ? 1 : 0);
  Block out = Block::Allocate(DType::kFloat64, {1 + p + (with_hessian ? p * p : 0)});
  double* o = out.data<double>();
  o[0] = s.loss;
  for (int64_t j = 0; j < d; ++j) o[1 + j] = s.xv[static_cast<size_t>(j)];
  if (fit_intercept) o[1 + d] = s.v;
  if (!with_hessian) return out;
  double* h = o + 1 + p;
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t j = i; j < d; ++j) {
      h[i * p + j] = h[j * p + i] = s.xwx[static_cast<size_t>(i * s.dp + j)];
    }
  }
  if (fit_intercept) {
    for (int64_t j = 0; j < d; ++j) h[j * p + d] = h[d * p + j] = s.xw[static_cast<size_t>(j)];
    h[d * p + d] = s.w;
  }
  return out;
}

// A y block's labels and, when it is n x 2, its second column: the rows' sample weights.
struct Labels {
  std::vector<double> y, sw;
  const double* labels = nullptr;
  const double* weights = nullptr;  // null: every row weighs 1
};
Labels SplitLabels(const Block& yb) {
  Labels l;
  if (yb.ndim() == 1) {
    l.labels = yb.data<double>();
    return l;
  }
  const int64_t n = yb.shape()[0];
  const double* p = yb.data<double>();
  l.y.resize(static_cast<size_t>(n));
  l.sw.resize(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    l.y[static_cast<size_t>(r)] = p[2 * r];
    l.sw[static_cast<size_t>(r)] = p[2 * r + 1];
  }
  l.labels = l.y.data();
  l.weights = l.sw.data();
  return l;
}

// splitmix64's finaliser: a bijection that makes counters into well-mixed 64-bit values.
uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A uniform in (0, 1] from a 64-bit value.
double Unit(uint64_t h) { return (static_cast<double>(h >> 11) + 1.0) * 0x1.0p-53; }

}  // namespace

void RegisterGlmKernels(engine::KernelRegistry& registry) {
  using engine::Device;
  // inputs [X_i (n x d float64), y_i (n float64, or n x 2: labels and nonnegative sample
  // weights)]; scalars [family (GlmFamily), coef (d doubles,
  // then the intercept when fit_intercept; empty means all zero), fit_intercept, with_hessian,
  // and optionally with_loss (default true; false leaves the loss 0)].
  // Output: one float64 block [loss, gradient (p), Hessian (p x p row-major, when with_hessian)],
  // p = d + fit_intercept, summed over the block's rows (see the file comment). The Gaussian
  // family at coef = 0 gives the Gram terms: Hessian X^T X, gradient -X^T y, loss y^T y / 2.
  registry.Register("glm.newton_terms", Device::kCpu, [](const KernelContext& ctx) {
    const NewtonTermsArgs args = ReadNewtonTermsArgs(ctx);
    const GlmFamily family = args.family();
    const bool fit_intercept = args.fit_intercept, with_hessian = args.with_hessian,
               with_loss = args.with_loss;
    const int64_t n = args.n, d = args.d;
    const double* w = args.weights();
    const double intercept = (w && fit_intercept) ? (*args.coef)[static_cast<size_t>(d)] : 0.0;
    const double* px = ctx.inputs[0].data<double>();
    const Labels labels = SplitLabels(ctx.inputs[1]);
    const Sums total = tbb::parallel_deterministic_reduce(
        tbb::blocked_range<int64_t>(0, n, kGrainRows), Sums(d, with_hessian),
        [&](const tbb::blocked_range<int64_t>& r, Sums s) {
          for (int64_t b = r.begin(); b < r.end(); b += kChunkRows) {
            AccumulateChunk(family, px, labels.labels, labels.weights, d, b,
                            std::min(r.end(), b + kChunkRows), w, intercept, with_hessian,
                            with_loss, s);
          }
          return s;
        },
        [](Sums a, const Sums& b) {
          a += b;
          return a;
        });
    return std::vector<Block>{Pack(total, d, fit_intercept, with_hessian)};
  });
  // inputs [X_i, y_i (n, or n x 2 whose first column is checked)]; scalars [family]. Output:
  // float64 [non-finite values in X_i, non-finite values in y_i's labels, labels outside the
  // family's support ({0, 1} logistic, >= 0 Poisson)].
  registry.Register("glm.check", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    const Block& y = ctx.inputs[1];
    CheckRowBlocks(x, &y, "glm.check");
    const auto family = static_cast<GlmFamily>(ctx.scalar<int64_t>(0));
    const double* px = x.data<double>();
    const Labels labels = SplitLabels(y);
    const double* py = labels.labels;
    double bad_x = 0, bad_y = 0, bad_label = 0;
    for (int64_t k = 0; k < x.size(); ++k) bad_x += std::isfinite(px[k]) ? 0 : 1;
    for (int64_t k = 0; k < x.shape()[0]; ++k) {
      const double v = py[k];
      if (!std::isfinite(v)) {
        ++bad_y;
      } else if ((family == GlmFamily::kLogistic && v != 0 && v != 1) ||
                 (family == GlmFamily::kPoisson && v < 0)) {
        ++bad_label;
      }
    }
    Block out = Block::Allocate(DType::kFloat64, {3});
    out.data<double>()[0] = bad_x;
    out.data<double>()[1] = bad_y;
    out.data<double>()[2] = bad_label;
    return std::vector<Block>{out};
  });
  // inputs [X_i]; scalars [family, coef (d doubles), intercept (double), labels (bool)]. Output:
  // float64 of X_i's rows: the mean mu(X_i w + b), or with `labels` 1 where eta > 0 else 0.
  registry.Register("glm.predict", Device::kCpu, [](const KernelContext& ctx) {
    const Block& x = ctx.inputs[0];
    CheckRowBlocks(x, nullptr, "glm.predict");
    const auto family = static_cast<GlmFamily>(ctx.scalar<int64_t>(0));
    const auto& coef = ctx.scalar<std::vector<double>>(1);
    const double intercept = ctx.scalar<double>(2);
    const bool labels = ctx.scalar<bool>(3);
    const int64_t n = x.shape()[0], d = x.shape()[1];
    if (static_cast<int64_t>(coef.size()) != d) {
      throw ShapeError("glm.predict: " + std::to_string(coef.size()) +
                       " coefficients for a block of " + std::to_string(d) + " features");
    }
    Block out = Block::Allocate(DType::kFloat64, {n});
    double* eta = out.data<double>();
    if (n > 0) {
      cblas_dgemv(CblasRowMajor, CblasNoTrans, AsBlasInt(n), AsBlasInt(d), 1.0, x.data<double>(),
                  AsBlasInt(d), coef.data(), 1, 0.0, eta, 1);
    }
    for (int64_t r = 0; r < n; ++r) {
      const double e = eta[r] + intercept;
      eta[r] = labels ? (e > 0 ? 1.0 : 0.0) : InverseLink(family, e);
    }
    return std::vector<Block>{out};
  });
  // inputs []; scalars [rows, cols, row offset, seed, {mean0, std0, mean1, std1}]. Outputs: X
  // (rows x cols float64) and y (rows float64) for global rows offset .. offset + rows - 1: row r
  // is class y_r (0 or 1, each with probability 1/2) and its features are independent normals
  // N(mean_y, std_y^2). Values depend only on (seed, global row, column): not on the blocking.
  registry.Register("glm.blobs", Device::kCpu, [](const KernelContext& ctx) {
    const int64_t rows = ctx.scalar<int64_t>(0), cols = ctx.scalar<int64_t>(1);
    const int64_t offset = ctx.scalar<int64_t>(2);
    const uint64_t key = Mix(static_cast<uint64_t>(ctx.scalar<int64_t>(3)));
    const auto& params = ctx.scalar<std::vector<double>>(4);
    if (params.size() != 4) throw ValueError("glm.blobs: needs 4 distribution parameters");
    Block x = Block::Allocate(DType::kFloat64, {rows, cols});
    Block y = Block::Allocate(DType::kFloat64, {rows});
    double* px = x.data<double>();
    double* py = y.data<double>();
    // Counter layout per global row: one slot per pair of features (Box-Muller gives two
    // normals from two uniforms), then one slot for the class.
    const int64_t pairs = (cols + 1) / 2;
    const uint64_t slots = static_cast<uint64_t>(pairs) * 2 + 1;
    ParallelRanges(rows, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(cols, 1)),
                   [&](int64_t b, int64_t e) {
                     for (int64_t r = b; r < e; ++r) {
                       const uint64_t base = static_cast<uint64_t>(offset + r) * slots;
                       const int cls = static_cast<int>(Mix(key + base + slots - 1) >> 63);
                       const double mean = params[cls ? 2 : 0], sd = params[cls ? 3 : 1];
                       py[r] = cls;
                       double* row = px + r * cols;
                       for (int64_t k = 0; k < pairs; ++k) {
                         const double u1 = Unit(Mix(key + base + 2 * k));
                         const double u2 = Unit(Mix(key + base + 2 * k + 1));
                         const double radius = std::sqrt(-2 * std::log(u1));
                         const double angle = 2 * std::numbers::pi * u2;
                         row[2 * k] = mean + sd * radius * std::cos(angle);
                         if (2 * k + 1 < cols)
                           row[2 * k + 1] = mean + sd * radius * std::sin(angle);
                       }
                     }
                   });
    return std::vector<Block>{x, y};
  });
}

}  // namespace nums::kernels
