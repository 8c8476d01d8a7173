// nums::random: each call takes the generator's next stream and sends one "array.random" task
// per block to the block's node; permutations are shuffled on the driver (Fisher-Yates driven by
// the same counter-based Philox) and put, or applied to an array's rows by "array.permute_rows".

#include "nums/random.hpp"

#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "src/array_impl.h"
#include "src/checked.h"
#include "src/kernels/random.h"
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
  std::vector<ObjectRef> blocks;
  blocks.reserve(static_cast<size_t>(grid.num_blocks()));
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    std::vector<TaskArg> args{detail::int_scalar(static_cast<int64_t>(d.kind)),
                              detail::int_scalar(static_cast<int64_t>(gen.seed)),
                              detail::int_scalar(static_cast<int64_t>(stream)),
                              detail::shape_scalar(grid.block_shape_at(e)),
                              detail::shape_scalar(grid.block_offset(e)),
                              detail::shape_scalar(shape),
                              detail::int_scalar(static_cast<int64_t>(d.dtype)),
                              Scalar{d.a},
                              Scalar{d.b},
                              detail::int_scalar(d.ai),
                              detail::int_scalar(d.bi)};
    blocks.push_back(detail::submit(*ctx, "array.random", std::move(args),
                                    detail::home_node(*ctx, grid, e),
                                    engine::OutputSpec{d.dtype, grid.block_shape_at(e)}));
  });
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
  if (dtype != int32 && dtype != int64) {
    throw DTypeError("random.integers: dtype " + std::string(dtype_name(dtype)) +
                     " is not int32 or int64");
  }
  if (high <= low) {
    throw ValueError("random.integers: low = " + std::to_string(low) +
                     " >= high = " + std::to_string(high));
  }
  if (dtype == int32) {
    constexpr int64_t kMin = std::numeric_limits<int32_t>::min();
    constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
    if (low < kMin || high - 1 > kMax) {
      throw ValueError("random.integers: range [" + std::to_string(low) + ", " +
                       std::to_string(high) + ") is out of bounds for int32");
    }
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
