// Creation: each block is made by a task on the node that owns it; only from_ndarray sends data.

#include "nums/creation.hpp"

#include <cmath>

#include "nums/math.hpp"
#include "nums/shape.hpp"
#include "src/array_impl.h"
#include "src/checked.h"
#include "src/kernels/cpu/kernels.h"
#include "src/placement.h"

namespace nums {

using detail::ObjectRef;

namespace {

// One task per block of a new array of `shape`, on the block's home node, placed as one plan;
// args_for(entry, block_shape) gives its arguments.
template <typename Args>
BlockArray create(const Shape& shape, DType dtype, const Shape& block_shape, const char* kernel,
                  Args args_for) {
  auto ctx = detail::current_context();
  ArrayGrid grid(shape, detail::choose_block_shape(*ctx, shape, dtype, block_shape), dtype);
  detail::BlockPlan plan(*ctx);
  std::vector<optimizer::OpId> ops;
  ops.reserve(static_cast<size_t>(grid.num_blocks()));
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const Shape bs = grid.block_shape_at(e);
    engine::OutputSpec out{dtype, bs};
    const int64_t bytes = out.nbytes();
    ops.push_back(plan.OnNode(
        detail::home_node(*ctx, grid, e), {}, bytes,
        [&ctx = *ctx, kernel, args = args_for(e, bs), out = std::move(out)](
            const std::vector<const detail::Refs*>&, int64_t node) mutable {  // runs once
          return detail::Refs{
              detail::submit_source(ctx, kernel, std::move(args), node, std::move(out))};
        },
        kernel));
    plan.Output(ops.back());
  });
  plan.Run();
  std::vector<ObjectRef> blocks;
  blocks.reserve(ops.size());
  for (optimizer::OpId op : ops) blocks.push_back(plan.result(op).at(0));
  return detail::make_array(std::move(ctx), std::move(grid), std::move(blocks));
}

}  // namespace

BlockArray full(const Shape& shape, Number value, std::optional<DType> dtype,
                const Shape& block_shape) {
  const DType t = dtype.value_or(value.kind);
  detail::check_shape(shape, t, "full");
  const int64_t iv = value.kind == DType::kFloat64 ? convert_value<int64_t>(value.f) : value.i;
  return create(shape, t, block_shape, "array.full", [&](const Shape&, const Shape& bs) {
    return std::vector<detail::TaskArg>{
        detail::shape_scalar(bs), detail::int_scalar(static_cast<int64_t>(t)),
        detail::Scalar{value.f}, detail::int_scalar(iv), detail::Scalar{value.im}};
  });
}

BlockArray empty(const Shape& shape, DType dtype, const Shape& block_shape) {
  return full(shape, 0, dtype, block_shape);
}
BlockArray zeros(const Shape& shape, DType dtype, const Shape& block_shape) {
  return full(shape, 0, dtype, block_shape);
}
BlockArray ones(const Shape& shape, DType dtype, const Shape& block_shape) {
  return full(shape, 1, dtype, block_shape);
}
BlockArray zeros_like(const BlockArray& a, std::optional<DType> dtype) {
  return full_like(a, 0, dtype);
}
BlockArray ones_like(const BlockArray& a, std::optional<DType> dtype) {
  return full_like(a, 1, dtype);
}
BlockArray full_like(const BlockArray& a, Number value, std::optional<DType> dtype) {
  return full(a.shape(), value, dtype.value_or(a.dtype()), a.block_shape());
}
BlockArray empty_like(const BlockArray& a, std::optional<DType> dtype) {
  return zeros_like(a, dtype);
}

namespace {

// start + k * step for k < n; `last` (if >= 0) gets exactly `last_value`.
BlockArray progression(Number start, Number step, int64_t n, DType dtype, const Shape& block_shape,
                       int64_t last, double last_value) {
  return create({n}, dtype, block_shape, "array.arange", [&](const Shape& e, const Shape& bs) {
    const int64_t offset = e[0] * (block_shape.empty() ? bs[0] : block_shape[0]);
    return std::vector<detail::TaskArg>{
        detail::int_scalar(bs[0]),  detail::int_scalar(static_cast<int64_t>(dtype)),
        detail::Scalar{start.f},    detail::Scalar{step.f},
        detail::int_scalar(offset), detail::int_scalar(start.i),
        detail::int_scalar(step.i), detail::int_scalar(last),
        detail::Scalar{last_value}};
  });
}

}  // namespace

BlockArray arange(Number stop) { return arange(0, stop); }

BlockArray arange(Number start, Number stop, Number step, std::optional<DType> dtype,
                  const Shape& block_shape) {
  if (step.f == 0) throw ValueError("arange: step must not be zero");
  for (const Number* v : {&start, &stop, &step}) {
    if (v->kind == DType::kUInt64 || v->is_complex()) {
      throw ValueError(
          "arange: " +
          std::string(v->is_complex() ? "complex numbers" : "integers above int64's maximum") +
          " are not supported");
    }
  }
  const bool ints = start.is_integral() && stop.is_integral() && step.is_integral();
  const DType t = dtype.value_or(ints ? DType::kInt64 : DType::kFloat64);
  const double len = std::ceil((stop.f - start.f) / step.f);
  if (std::isnan(len)) throw ValueError("arange: cannot compute the length of a NaN range");
  // 2^63 is the first double past int64; casting a larger one would be undefined behaviour.
  if (len >= 9223372036854775808.0) {
    throw ValueError("arange: the length of [" + std::to_string(start.f) + ", " +
                     std::to_string(stop.f) + ") in steps of " + std::to_string(step.f) +
                     " does not fit int64");
  }
  const int64_t n = len > 0 ? static_cast<int64_t>(len) : 0;
  // Offsets must use the real block length, which progression() cannot know before choosing it.
  auto ctx = detail::current_context();
  const Shape bs = detail::choose_block_shape(*ctx, {n}, t, block_shape);
  return progression(start, step, n, t, bs, -1, 0.0);
}

BlockArray linspace(double start, double stop, int64_t num, bool endpoint, DType dtype,
                    const Shape& block_shape) {
  if (num < 0) throw ValueError("linspace: number of samples " + std::to_string(num) + " < 0");
  const int64_t div = endpoint ? num - 1 : num;
  const double step = div > 0 ? (stop - start) / static_cast<double>(div) : 0.0;
  auto ctx = detail::current_context();
  const Shape bs = detail::choose_block_shape(*ctx, {num}, dtype, block_shape);
  const int64_t last = endpoint && num > 1 ? num - 1 : -1;
  // Computed in float64 and cast, as NumPy does (the kernel computes float and bool elements in
  // double); integers are rounded toward minus infinity (NumPy >= 1.20), so
  // linspace(0, 10, 4, int64) == [0, 3, 6, 10] and linspace(-5, 0, 4, int64) == [-5, -4, -2, 0].
  if (!is_integer(dtype)) {
    return progression(Number(start), Number(step), num, dtype, bs, last, stop);
  }
  const BlockArray values =
      progression(Number(start), Number(step), num, DType::kFloat64, bs, last, stop);
  return floor(values).astype(dtype);
}

BlockArray logspace(double start, double stop, int64_t num, bool endpoint, double base, DType dtype,
                    const Shape& block_shape) {
  if (num < 0) throw ValueError("logspace: number of samples " + std::to_string(num) + " < 0");
  const BlockArray t = linspace(start, stop, num, endpoint, float64, block_shape);
  return power(full_like(t, base), t).astype(dtype);
}

std::vector<BlockArray> meshgrid(const std::vector<BlockArray>& xs, const std::string& indexing) {
  if (indexing != "xy" && indexing != "ij") {
    throw ValueError("meshgrid: indexing must be 'xy' or 'ij', got '" + indexing + "'");
  }
  const size_t n = xs.size();
  // Axis of the output along which input i varies: "xy" swaps the first two.
  auto axis_of = [&](size_t i) {
    if (indexing == "xy" && n >= 2 && i < 2) return 1 - i;
    return i;
  };
  Shape out(n);
  for (size_t i = 0; i < n; ++i) out[axis_of(i)] = xs[i].size();
  std::vector<BlockArray> grids;
  for (size_t i = 0; i < n; ++i) {
    Shape s(n, 1);
    s[axis_of(i)] = xs[i].size();
    grids.push_back(broadcast_to(xs[i].reshape(s), out));
  }
  return grids;
}

BlockArray eye(int64_t n, std::optional<int64_t> m_in, int64_t k, DType dtype,
               const Shape& block_shape) {
  const int64_t m = m_in.value_or(n);
  detail::check_shape({n, m}, dtype, "eye");
  auto ctx = detail::current_context();
  const Shape bs = detail::choose_block_shape(*ctx, {n, m}, dtype, block_shape);
  return create({n, m}, dtype, bs, "array.eye", [&](const Shape& e, const Shape& shape) {
    return std::vector<detail::TaskArg>{
        detail::shape_scalar(shape), detail::int_scalar(static_cast<int64_t>(dtype)),
        detail::int_scalar(e[0] * bs[0]), detail::int_scalar(e[1] * bs[1]), detail::int_scalar(k)};
  });
}

BlockArray identity(int64_t n, DType dtype) { return eye(n, n, 0, dtype); }

BlockArray from_ndarray(const NDArray& a, const Shape& block_shape) {
  return detail::put_ndarray(detail::current_context(), a, block_shape);
}

BlockArray detail::put_ndarray(std::shared_ptr<Context::Impl> ctx, const NDArray& a,
                               const Shape& block_shape) {
  ArrayGrid grid(a.shape(), detail::choose_block_shape(*ctx, a.shape(), a.dtype(), block_shape),
                 a.dtype());
  // A view of the caller's bytes as a block, to copy each block's region out of.
  const engine::Block src(
      a.dtype(), a.shape(),
      engine::Buffer::Wrap(a.storage(), const_cast<void*>(a.raw()), a.nbytes()));
  const size_t nd = a.shape().size();
  const Shape ones(nd, 1), zeros(nd, 0);
  std::vector<ObjectRef> blocks;
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const Shape bs = grid.block_shape_at(e);
    engine::Block b = engine::Block::Allocate(a.dtype(), bs);
    kernels::CopyRegion(src, b, grid.block_offset(e).data(), ones.data(), bs.data(), zeros.data());
    blocks.push_back(ctx->runtime->Put(std::move(b), detail::home_node(*ctx, grid, e)));
  });
  return detail::make_array(std::move(ctx), std::move(grid), std::move(blocks));
}

BlockArray from_eigen(const Eigen::MatrixXd& m, const Shape& block_shape) {
  NDArray a(DType::kFloat64, {m.rows(), m.cols()});
  double* p = a.data<double>();
  for (int64_t i = 0; i < m.rows(); ++i) {
    for (int64_t j = 0; j < m.cols(); ++j) p[i * m.cols() + j] = m(i, j);
  }
  return from_ndarray(a, block_shape);
}

BlockArray diag(const BlockArray& a, int64_t k) {
  // Gathered on the driver: the input is a vector or the output is one.
  const NDArray v = a.get();
  if (a.ndim() == 1) {
    const int64_t n = a.shape()[0] + (k < 0 ? -k : k);
    NDArray out(a.dtype(), {n, n});
    dispatch_all(a.dtype(), [&](auto t) {
      using T = decltype(t);
      for (int64_t i = 0; i < a.shape()[0]; ++i) {
        const int64_t r = k >= 0 ? i : i - k, c = k >= 0 ? i + k : i;
        out.data<T>()[r * n + c] = v.data<T>()[i];
      }
    });
    return from_ndarray(out);
  }
  if (a.ndim() != 2) {
    throw ShapeError("diag: input must be 1-d or 2-d, got shape " + shape_str(a.shape()));
  }
  const int64_t rows = a.shape()[0], cols = a.shape()[1];
  const int64_t r0 = k >= 0 ? 0 : -k, c0 = k >= 0 ? k : 0;
  const int64_t n = std::max<int64_t>(0, std::min(rows - r0, cols - c0));
  NDArray out(a.dtype(), {n});
  dispatch_all(a.dtype(), [&](auto t) {
    using T = decltype(t);
    for (int64_t i = 0; i < n; ++i) out.data<T>()[i] = v.data<T>()[(r0 + i) * cols + c0 + i];
  });
  return from_ndarray(out);
}

}  // namespace nums
