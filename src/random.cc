// nums::random: each call takes the generator's next stream and sends one "array.random" task
// per block to the block's node; permutations are shuffled on the driver (Fisher-Yates driven by
// the same counter-based Philox) and put, or applied to an array's rows by "array.permute_rows".

#include "nums/random.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <sstream>
#include <string>

#include "nums/indexing.hpp"
#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "nums/sorting.hpp"
#include "src/array_impl.h"
#include "src/checked.h"
#include "src/kernels/cpu/kernels.h"
#include "src/kernels/random.h"
#include "src/kernels/random_discrete.h"
#include "src/placement.h"

namespace nums::random {

using detail::ObjectRef;
using detail::Scalar;
using detail::TaskArg;
using kernels::RandomKind;

struct Generator::Impl {
  std::shared_ptr<Context::Impl> ctx;
  uint64_t seed = 0;
  std::atomic<uint64_t> next_stream{0};  ///< the stream the next call uses
};

namespace {

void check_shape(const Shape& shape, const char* op) {
  detail::check_shape(shape, DType::kFloat64, std::string("random.") + op);
}

void check_float(DType dtype, const char* op) {
  if (dtype != float32 && dtype != float64) {
    throw DTypeError(std::string("random.") + op + ": dtype " + std::string(dtype_name(dtype)) +
                     " is not float32 or float64");
  }
}

void check_finite(double v, const char* what, const char* op) {
  if (!std::isfinite(v)) {
    throw ValueError(std::string("random.") + op + ": " + what + " = " + std::to_string(v) +
                     " is not finite");
  }
}

// Parameters of one "array.random" call besides the block's position.
struct Draw {
  RandomKind kind;
  DType dtype;
  double a = 0, b = 0;
  int64_t ai = 0, bi = 0;
};

// One "array.random" task per block, on the generator's next stream (taken once block_shape is
// known to be valid, so that a call that throws takes none).
BlockArray draw(Generator::Impl& gen, const Draw& d, const Shape& shape, const Shape& block_shape) {
  const auto& ctx = gen.ctx;
  ArrayGrid grid(shape, detail::choose_block_shape(*ctx, shape, d.dtype, block_shape), d.dtype);
  const uint64_t stream = gen.next_stream++;
  detail::BlockPlan plan(*ctx);
  std::vector<optimizer::OpId> ops;
  ops.reserve(static_cast<size_t>(grid.num_blocks()));
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const Shape bs = grid.block_shape_at(e);
    std::vector<TaskArg> args{detail::int_scalar(static_cast<int64_t>(d.kind)),
                              detail::int_scalar(static_cast<int64_t>(gen.seed)),
                              detail::int_scalar(static_cast<int64_t>(stream)),
                              detail::shape_scalar(bs),
                              detail::shape_scalar(grid.block_offset(e)),
                              detail::shape_scalar(shape),
                              detail::int_scalar(static_cast<int64_t>(d.dtype)),
                              Scalar{d.a},
                              Scalar{d.b},
                              detail::int_scalar(d.ai),
                              detail::int_scalar(d.bi)};
    engine::OutputSpec out{d.dtype, bs};
    const int64_t bytes = out.nbytes();
    ops.push_back(plan.OnNode(
        detail::home_node(*ctx, grid, e), {}, bytes,
        [&ctx = *ctx, args = std::move(args), out = std::move(out)](
            const std::vector<const detail::Refs*>&, int64_t node) mutable {  // runs once
          return detail::Refs{
              detail::submit(ctx, "array.random", std::move(args), node, std::move(out))};
        },
        "array.random"));
    plan.Output(ops.back());
  });
  plan.Run();
  std::vector<ObjectRef> blocks;
  blocks.reserve(ops.size());
  for (optimizer::OpId op : ops) blocks.push_back(plan.result(op).at(0));
  return detail::make_array(ctx, std::move(grid), std::move(blocks));
}

// 0 .. n-1 shuffled by Fisher-Yates: step i swaps i with an unbiased j in [0, i], drawn from
// element i of the stream (so the result depends only on seed, stream and n).
std::vector<int64_t> shuffled_indices(uint64_t seed, uint64_t stream, int64_t n) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  constexpr int kL = kernels::kLanes<uint64_t>;
  kernels::PhiloxWords w{};
  uint64_t call = std::numeric_limits<uint64_t>::max();
  for (int64_t i = n - 1; i > 0; --i) {
    const auto ui = static_cast<uint64_t>(i);
    if (ui / kL != call) {
      call = ui / kL;
      w = kernels::PhiloxAt(seed, stream, call, 0);
    }
    const uint64_t j = kernels::Bounded<uint64_t>(w.v[ui % kL], ui + 1, seed, stream, ui);
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

// NumPy's tolerance on the sum of choice's probabilities.
const double kProbabilitySumTolerance = std::sqrt(std::numeric_limits<double>::epsilon());

std::string Num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Checks choice's p (n entries; sum and min of them, nonzero count when known) as NumPy does.
void CheckProbabilities(int64_t n, int64_t len, double sum, double min) {
  if (len != n) {
    throw ValueError("random.choice: a (" + std::to_string(n) + " elements) and p (" +
                     std::to_string(len) + " elements) must have the same size");
  }
  if (std::isnan(min) || std::isnan(sum)) {
    throw ValueError("random.choice: probabilities p contain NaN");
  }
  if (min < 0.0) {
    throw ValueError("random.choice: probabilities p are not non-negative (minimum " + Num(min) +
                     ")");
  }
  if (!(std::abs(sum - 1.0) <= kProbabilitySumTolerance)) {
    throw ValueError("random.choice: probabilities p do not sum to 1 (sum " + Num(sum) + ")");
  }
}

}  // namespace

Generator::Generator(Context ctx, uint64_t seed) : impl_(std::make_shared<Impl>()) {
  impl_->ctx = ctx.impl();
  impl_->seed = seed;
}

Generator::Generator(uint64_t seed) : Generator(Context(detail::current_context()), seed) {}

uint64_t Generator::seed() const { return impl_->seed; }

BlockArray Generator::uniform(const Shape& shape, double low, double high, DType dtype,
                              const Shape& block_shape) {
  check_shape(shape, "uniform");
  check_float(dtype, "uniform");
  check_finite(low, "low", "uniform");
  check_finite(high, "high", "uniform");
  check_finite(high - low, "high - low", "uniform");
  Draw d{RandomKind::kUniform, dtype};
  d.a = low;
  d.b = high;
  return draw(*impl_, d, shape, block_shape);
}

BlockArray Generator::random(const Shape& shape, DType dtype, const Shape& block_shape) {
  return uniform(shape, 0.0, 1.0, dtype, block_shape);
}

BlockArray Generator::normal(const Shape& shape, double loc, double scale, DType dtype,
                             const Shape& block_shape) {
  check_shape(shape, "normal");
  check_float(dtype, "normal");
  check_finite(loc, "loc", "normal");
  if (!(scale >= 0.0) || !std::isfinite(scale)) {
    throw ValueError("random.normal: scale = " + std::to_string(scale) +
                     " must be finite and >= 0");
  }
  Draw d{RandomKind::kNormal, dtype};
  d.a = loc;
  d.b = scale;
  return draw(*impl_, d, shape, block_shape);
}

BlockArray Generator::integers(int64_t low, int64_t high, const Shape& shape, DType dtype,
                               const Shape& block_shape) {
  check_shape(shape, "integers");
  if (!is_integer(dtype)) {
    throw DTypeError("random.integers: dtype " + std::string(dtype_name(dtype)) +
                     " is not an integer dtype");
  }
  if (high <= low) {
    throw ValueError("random.integers: low = " + std::to_string(low) +
                     " >= high = " + std::to_string(high));
  }
  if (dtype != int64) {
    const auto [lo, hi] = dispatch(dtype, [](auto t) {
      using T = decltype(t);
      if constexpr (std::is_integral_v<T>) {
        // uint64's maximum is past int64's; high is an int64, so int64's maximum bounds it.
        return std::pair<int64_t, int64_t>(
            static_cast<int64_t>(std::numeric_limits<T>::min()),
            static_cast<int64_t>(std::min<uint64_t>(std::numeric_limits<T>::max(),
                                                    std::numeric_limits<int64_t>::max())));
      } else {
        return std::pair<int64_t, int64_t>(0, 0);  // not reached: dtype is an integer
      }
    });
    if (low < lo || high - 1 > hi) {
      throw ValueError("random.integers: range [" + std::to_string(low) + ", " +
                       std::to_string(high) + ") is out of bounds for " +
                       std::string(dtype_name(dtype)));
    }
  }
  // The generator's kernel draws int32 and int64; narrower integers are int64 draws, cast.
  if (dtype != int32 && dtype != int64) {
    return integers(low, high, shape, int64, block_shape).astype(dtype);
  }
  Draw d{RandomKind::kIntegers, dtype};
  d.ai = low;
  d.bi = high;
  return draw(*impl_, d, shape, block_shape);
}

BlockArray Generator::permutation(int64_t n, const Shape& block_shape) {
  if (n < 0) {
    throw ShapeError("random.permutation: negative length " + std::to_string(n));
  }
  const Shape shape{n};
  auto& ctx = *impl_->ctx;
  ArrayGrid grid(shape, detail::choose_block_shape(ctx, shape, int64, block_shape), int64);
  const std::vector<int64_t> p = shuffled_indices(impl_->seed, impl_->next_stream++, n);
  std::vector<ObjectRef> blocks;
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const Shape bs = grid.block_shape_at(e);
    engine::Block b = engine::Block::Allocate(int64, bs);
    const auto first = p.begin() + grid.block_offset(e)[0];
    std::copy(first, first + bs[0], b.data<int64_t>());
    blocks.push_back(ctx.runtime->Put(std::move(b), detail::home_node(ctx, grid, e)));
  });
  return detail::make_array(impl_->ctx, std::move(grid), std::move(blocks));
}

BlockArray Generator::permutation(const BlockArray& x) {
  detail::normalize_axis(0, x.ndim(), "random.permutation");
  const auto& in = *x.impl();
  const ArrayGrid& grid = in.grid;
  const int64_t rows = grid.shape()[0];
  const std::vector<int64_t> p = shuffled_indices(impl_->seed, impl_->next_stream++, rows);
  if (rows == 0) return x.copy();
  // Output block e takes its rows from the input blocks (g, e1, e2, ...) that hold them; each
  // distinct one is passed once.
  const int64_t rows_per_block = grid.block_shape()[0];
  const int64_t item = itemsize(grid.dtype());
  detail::GatherPlan blocks(*in.ctx);
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const Shape bs = grid.block_shape_at(e);
    const int64_t off = grid.block_offset(e)[0];
    std::map<int64_t, int64_t> input_of_block;  // input block row g -> argument position
    std::vector<TaskArg> args;
    std::vector<int64_t> input_bytes, source, row;
    Shape g = e;
    for (int64_t r = 0; r < bs[0]; ++r) {
      const int64_t src = p[static_cast<size_t>(off + r)];
      g[0] = src / rows_per_block;
      auto [it, added] = input_of_block.emplace(g[0], static_cast<int64_t>(args.size()));
      if (added) {
        args.emplace_back(in.blocks[static_cast<size_t>(grid.flat(g))]);
        input_bytes.push_back(shape_size(grid.block_shape_at(g)) * item);
      }
      source.push_back(it->second);
      row.push_back(src - g[0] * rows_per_block);
    }
    args.emplace_back(detail::shape_scalar(bs));
    args.emplace_back(detail::int_scalar(static_cast<int64_t>(grid.dtype())));
    args.emplace_back(Scalar{std::move(source)});
    args.emplace_back(Scalar{std::move(row)});
    blocks.Add("array.permute_rows", std::move(args), input_bytes,
               engine::OutputSpec{grid.dtype(), bs});
  });
  return detail::make_array(in.ctx, grid, std::move(blocks).Run());
}

}  // namespace nums::random

namespace nums::random {

BlockArray Generator::standard_normal(const Shape& shape, DType dtype, const Shape& block_shape) {
  check_shape(shape, "standard_normal");
  check_float(dtype, "standard_normal");
  Draw d{RandomKind::kNormal, dtype};
  d.a = 0.0;
  d.b = 1.0;
  return draw(*impl_, d, shape, block_shape);
}

BlockArray Generator::exponential(const Shape& shape, double scale, DType dtype,
                                  const Shape& block_shape) {
  check_shape(shape, "exponential");
  check_float(dtype, "exponential");
  if (!(scale >= 0.0) || !std::isfinite(scale)) {
    throw ValueError("random.exponential: scale = " + Num(scale) + " must be finite and >= 0");
  }
  Draw d{RandomKind::kExponential, dtype};
  d.b = scale;
  return draw(*impl_, d, shape, block_shape);
}

BlockArray Generator::poisson(const Shape& shape, double lam, const Shape& block_shape) {
  check_shape(shape, "poisson");
  if (!(lam >= 0.0)) {
    throw ValueError("random.poisson: lam = " + Num(lam) + " must be >= 0");
  }
  if (lam > kernels::kMaxPoissonLam) {
    throw ValueError("random.poisson: lam = " + Num(lam) + " is too large (the limit is " +
                     Num(kernels::kMaxPoissonLam) + ")");
  }
  Draw d{RandomKind::kPoisson, int64};
  d.a = lam;
  return draw(*impl_, d, shape, block_shape);
}

BlockArray Generator::binomial(const Shape& shape, int64_t n, double p, const Shape& block_shape) {
  check_shape(shape, "binomial");
  if (n < 0) {
    throw ValueError("random.binomial: n = " + std::to_string(n) + " must be >= 0");
  }
  if (!(p >= 0.0 && p <= 1.0)) {
    throw ValueError("random.binomial: p = " + Num(p) + " must be in [0, 1]");
  }
  Draw d{RandomKind::kBinomial, int64};
  d.a = p;
  d.ai = n;
  return draw(*impl_, d, shape, block_shape);
}

namespace {

void CheckPopulation(const BlockArray& a) {
  if (a.ndim() != 1) {
    throw ValueError("random.choice: a must be 1-dimensional; got shape " + shape_str(a.shape()));
  }
}

BlockArray ChoiceImpl(Generator& gen, Generator::Impl& impl, int64_t a, const Shape& size,
                      bool replace, const std::vector<double>* p_vec, const BlockArray* p_arr,
                      const Shape& block_shape) {
  check_shape(size, "choice");
  const int64_t samples = shape_size(size);
  if (a < 0 || (a == 0 && samples != 0)) {
    throw ValueError(a < 0 ? "random.choice: a = " + std::to_string(a) +
                                 " must be a positive integer unless no samples are taken"
                           : std::string("random.choice: a cannot be empty unless no samples "
                                         "are taken (size " +
                                         shape_str(size) + ")"));
  }
  if (!replace && samples > a) {
    throw ValueError("random.choice: cannot take a larger sample (" + std::to_string(samples) +
                     ") than the population (" + std::to_string(a) + ") when replace is false");
  }
  auto& ctx = impl.ctx;
  detail::choose_block_shape(*ctx, size, int64, block_shape);  // a bad block_shape takes no stream
  std::vector<double> weights;       // p on the driver: p_vec, or p_arr without replacement
  std::optional<BlockArray> p_dist;  // p_arr with replacement, left on the nodes
  if (p_vec) {
    weights = *p_vec;
  } else if (p_arr) {
    if (p_arr->ndim() != 1) {
      throw ValueError("random.choice: p must be 1-dimensional; got shape " +
                       shape_str(p_arr->shape()));
    }
    const BlockArray p64 = p_arr->astype(float64);
    if (replace) {
      CheckProbabilities(a, p64.shape()[0], p64.shape()[0] == 0 ? 0.0 : p64.sum().item<double>(),
                         p64.shape()[0] == 0 ? 0.0 : p64.min().item<double>());
      p_dist = p64;
    } else {
      weights = p64.get().to_vector<double>();
    }
  }
  const bool weighted = p_vec || p_arr;
  if (weighted && !p_dist) {
    double sum = 0.0, min = weights.empty() ? 0.0 : weights[0];
    for (double w : weights) {
      sum += w;
      min = std::isnan(w) || std::isnan(min) ? std::nan("") : std::min(min, w);
    }
    CheckProbabilities(a, static_cast<int64_t>(weights.size()), sum, min);
    if (!replace) {
      const int64_t nonzero =
          std::count_if(weights.begin(), weights.end(), [](double w) { return w > 0.0; });
      if (nonzero < samples) {
        throw ValueError("random.choice: fewer non-zero entries in p (" + std::to_string(nonzero) +
                         ") than size (" + std::to_string(samples) + ")");
      }
    }
  }

  if (samples == 0) {
    ++impl.next_stream;
    return detail::put_ndarray(ctx, NDArray(int64, size), block_shape);
  }
  if (replace && !weighted) return gen.integers(0, a, size, int64, block_shape);
  if (replace) {
    // One block: the cumsum then adds in one fixed order.
    if (!p_dist)
      p_dist = detail::put_ndarray(ctx, NDArray::from_vector(weights, Shape{a}), Shape{a});
    const BlockArray cdf = cumsum(*p_dist);
    const double total = cdf(a - 1).get().item<double>();
    const int64_t last_positive =
        searchsorted(cdf, detail::put_ndarray(ctx, NDArray::scalar(total), {}), "left")
            .item<int64_t>();
    const BlockArray u = gen.uniform(size, 0.0, 1.0, float64, block_shape);
    return minimum(searchsorted(cdf, u * total, "right"), last_positive);
  }
  const uint64_t stream = impl.next_stream++;
  std::vector<int64_t> picked;
  if (!weighted) {
    picked = shuffled_indices(impl.seed, stream, a);
  } else {
    // Key of element i: -log(u_i) / p_i from word i of the stream; zero weights never come first.
    std::vector<double> key(static_cast<size_t>(a));
    constexpr int kL = kernels::kLanes<uint64_t>;
    for (int64_t i = 0; i < a; ++i) {
      const auto ui = static_cast<uint64_t>(i);
      const kernels::PhiloxWords w = kernels::PhiloxAt(impl.seed, stream, ui / kL, 0);
      const double wi = weights[static_cast<size_t>(i)];
      key[static_cast<size_t>(i)] = wi > 0.0
                                        ? -std::log(kernels::Uniform53OpenLow(w.v[ui % kL])) / wi
                                        : std::numeric_limits<double>::infinity();
    }
    picked.resize(static_cast<size_t>(a));
    std::iota(picked.begin(), picked.end(), int64_t{0});
    std::partial_sort(picked.begin(), picked.begin() + samples, picked.end(),
                      [&](int64_t x, int64_t y) {
                        const double kx = key[static_cast<size_t>(x)];
                        const double ky = key[static_cast<size_t>(y)];
                        return kx < ky || (kx == ky && x < y);
                      });
  }
  picked.resize(static_cast<size_t>(samples));
  return detail::put_ndarray(ctx, NDArray::from_vector(picked, size), block_shape);
}

}  // namespace

// choice(a, size, replace, p): checks in NumPy's order, then one stream:
// - with replacement, uniform: integers(0, a, size);
// - with replacement, weighted: u = uniform(size) and searchsorted(cumsum(p), u * total,
//   "right"), where total = cumsum(p)[-1]; positions past the last positive p (u * total can
//   round up to total) are clamped to it;
// - without replacement, uniform: the first `samples` entries of a permutation of 0 .. a-1;
// - without replacement, weighted: the `samples` smallest keys E_i / p_i (E_i exponential from
//   element i of the stream; Efraimidis-Spirakis), in increasing order: the same law as drawing
//   one at a time with p renormalised over those left.
BlockArray Generator::choice(int64_t a, const Shape& size, bool replace,
                             const std::optional<std::vector<double>>& p,
                             const Shape& block_shape) {
  if (!p) return ChoiceImpl(*this, *impl_, a, size, replace, nullptr, nullptr, block_shape);
  return ChoiceImpl(*this, *impl_, a, size, replace, &*p, nullptr, block_shape);
}

BlockArray Generator::choice(int64_t a, const Shape& size, bool replace, const BlockArray& p,
                             const Shape& block_shape) {
  return ChoiceImpl(*this, *impl_, a, size, replace, nullptr, &p, block_shape);
}

BlockArray Generator::choice(const BlockArray& a, const Shape& size, bool replace,
                             const std::optional<std::vector<double>>& p,
                             const Shape& block_shape) {
  CheckPopulation(a);
  return take(a, choice(a.shape()[0], size, replace, p, block_shape), 0);
}

BlockArray Generator::choice(const BlockArray& a, const Shape& size, bool replace,
                             const BlockArray& p, const Shape& block_shape) {
  CheckPopulation(a);
  return take(a, choice(a.shape()[0], size, replace, p, block_shape), 0);
}

void Generator::shuffle(BlockArray& x) {
  const BlockArray shuffled = permutation(x);
  if (x.size() == 0) return;
  // Written through an index so that every handle sharing x's blocks sees the new order.
  x(nums::all) = shuffled;
}

}  // namespace nums::random
