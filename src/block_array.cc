// BlockArray basics: accessors, gathering to the driver, casting, re-blocking, and the helpers
// every operation uses to become block tasks.

#include <algorithm>
#include <numeric>

#include "nums/progress.hpp"
#include "src/array_impl.h"
#include "src/checked.h"
#include "src/devices.h"
#include "src/expression.h"
#include "src/kernels/cpu/kernels.h"
#include "src/placement.h"

namespace nums {
namespace detail {

BlockArray make_array(std::shared_ptr<Context::Impl> ctx, ArrayGrid grid,
                      std::vector<ObjectRef> blocks) {
  auto impl = std::make_shared<BlockArray::Impl>();
  impl->ctx = std::move(ctx);
  impl->grid = std::move(grid);
  impl->blocks = std::move(blocks);
  return BlockArray(std::move(impl));
}

thread_local const char* UserOp::current_ = nullptr;

namespace {
// The task's name for logs and errors: the kernel's, with the user's call when one is named.
std::string task_name(const char* kernel) {
  const char* op = UserOp::current();
  return op ? std::string(kernel) + " (in " + op + ")" : std::string();
}
}  // namespace

std::vector<ObjectRef> submit_n(Context::Impl& ctx, const char* kernel, std::vector<TaskArg> args,
                                int64_t node, int64_t num_returns,
                                std::vector<engine::OutputSpec> outputs) {
  const TaskDevice device = task_device(ctx, args, kernel);
  engine::TaskSpec spec{kernel,
                        device.device,
                        node,
                        std::move(args),
                        num_returns,
                        task_name(kernel),
                        std::move(outputs)};
  spec.device_pinned = device.pinned;
  return ctx.runtime->Submit(std::move(spec));
}

ObjectRef submit(Context::Impl& ctx, const char* kernel, std::vector<TaskArg> args, int64_t node,
                 std::optional<engine::OutputSpec> out) {
  std::vector<engine::OutputSpec> outputs;
  if (out) outputs.push_back(std::move(*out));
  return submit_n(ctx, kernel, std::move(args), node, 1, std::move(outputs))[0];
}

ObjectRef submit_source(Context::Impl& ctx, const char* kernel, std::vector<TaskArg> args,
                        int64_t node, engine::OutputSpec out, bool io) {
  engine::TaskSpec spec{
      kernel, engine::Device::kCpu, node, std::move(args), 1, task_name(kernel), {std::move(out)}};
  spec.io = io;
  spec.recomputable = true;
  return ctx.runtime->Submit(std::move(spec))[0];
}

int64_t home_node(const Context::Impl& ctx, const ArrayGrid& grid, const Shape& entry) {
  return ctx.node_grid.node_of(entry, grid.grid_shape());
}

namespace {
// The default rule on ctx's nodes: default_block_shape, split further (up to 4x the blocks) when
// that gives a block count the nodes divide, with equal dimensions split equally. 8192 x 8192
// float64 on 2 nodes is then 4 x 4 blocks instead of 3 x 3: the 64 partial products of a matmul
// share evenly over the nodes where 27 could not. Arrays of many blocks keep the rule's blocks
// (an uneven share matters little there).
Shape default_blocks(const Context::Impl& ctx, const Shape& shape, DType dtype) {
  constexpr int64_t kMaxEvened = 256;
  const Shape base = default_block_shape(shape, dtype, ctx.cores);
  const int64_t nodes = ctx.node_grid.num_nodes();
  auto count = [&](const Shape& block) { return ArrayGrid(shape, block, dtype).num_blocks(); };
  auto balanced = [&](const Shape& block) {
    for (size_t d = 0; d < shape.size(); ++d) {
      for (size_t e = d + 1; e < shape.size(); ++e) {
        if (shape[d] == shape[e] && block[d] != block[e]) return false;
      }
    }
    return true;
  };
  const int64_t need = count(base);
  if (nodes == 1 || need % nodes == 0 || need > kMaxEvened) return base;
  for (int64_t n = need; n <= 4 * need;) {
    const Shape block = default_block_shape(shape, dtype, n + 1);
    const int64_t next = count(block);
    if (next <= n) break;  // too small to split further
    if (next % nodes == 0 && balanced(block)) return block;
    n = next;
  }
  return base;
}
}  // namespace

Shape choose_block_shape(const Context::Impl& ctx, const Shape& shape, DType dtype,
                         const Shape& requested) {
  check_shape(shape, dtype, "");
  if (requested.empty() && !shape.empty()) return default_blocks(ctx, shape, dtype);
  if (requested.size() != shape.size()) {
    throw ShapeError("block_shape " + shape_str(requested) + " does not match the rank of shape " +
                     shape_str(shape));
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    if (requested[d] < 1 && !(requested[d] == 0 && shape[d] == 0)) {
      throw ShapeError("block_shape " + shape_str(requested) + ": dimensions must be >= 1");
    }
  }
  return requested;
}

int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op) {
  const int64_t a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim) {
    throw IndexError(std::string(op) + ": axis " + std::to_string(axis) +
                     " is out of bounds for array of dimension " + std::to_string(ndim));
  }
  return a;
}

std::vector<int64_t> normalize_axes(const Axes& axes, int64_t ndim, const char* op) {
  std::vector<int64_t> out;
  if (!axes.axes) {
    out.resize(static_cast<size_t>(ndim));
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  for (int64_t a : *axes.axes) out.push_back(normalize_axis(a, ndim, op));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    throw ValueError(std::string(op) + ": repeated axis");
  }
  return out;
}

void check_same_context(const BlockArray& a, const BlockArray& b, const char* op) {
  if (LazyAccess::raw(a)->ctx != LazyAccess::raw(b)->ctx) {
    throw ClusterError(std::string(op) + ": operands belong to different contexts (clusters)");
  }
}

BlockArray strided_view(const BlockArray& x, const Shape& start, const Shape& step,
                        const Shape& count, const Shape& block_shape) {
  const auto& in = *x.impl();
  const ArrayGrid& ig = in.grid;
  const size_t nd = count.size();
  ArrayGrid og(count, block_shape, ig.dtype());
  GatherPlan blocks(*in.ctx);
  const int64_t item = itemsize(ig.dtype());
  // One piece of an output block along one axis: input block g, local src start, count, local
  // dst start.
  struct Piece {
    int64_t g, src, n, dst;
  };
  for_each_entry(og.grid_shape(), [&](const Shape& e) {
    const Shape off = og.block_offset(e);
    const Shape bs = og.block_shape_at(e);
    std::vector<std::vector<Piece>> pieces(nd);
    for (size_t d = 0; d < nd; ++d) {
      const int64_t ib = ig.block_shape()[d];
      for (int64_t j = 0; j < bs[d];) {
        const int64_t i = start[d] + (off[d] + j) * step[d];
        const int64_t g = i / ib;
        const int64_t local = i - g * ib;
        const int64_t block_len = std::min(ib, ig.shape()[d] - g * ib);
        int64_t n = step[d] > 0 ? (block_len - 1 - local) / step[d] + 1 : local / (-step[d]) + 1;
        n = std::min(n, bs[d] - j);
        pieces[d].push_back({g, local, n, j});
        j += n;
      }
    }
    // The cross product of the per-axis pieces: one region per input block touched.
    std::vector<TaskArg> args;
    std::vector<int64_t> input_bytes;
    std::vector<int64_t> regions;
    std::vector<size_t> pick(nd, 0);
    bool whole_block = true;
    for (;;) {
      Shape g(nd);
      for (size_t d = 0; d < nd; ++d) g[d] = pieces[d][pick[d]].g;
      args.emplace_back(in.blocks[static_cast<size_t>(ig.flat(g))]);
      const Shape ibs = ig.block_shape_at(g);
      input_bytes.push_back(shape_size(ibs) * item);
      for (size_t d = 0; d < nd; ++d) regions.push_back(pieces[d][pick[d]].src);
      for (size_t d = 0; d < nd; ++d) regions.push_back(step[d]);
      for (size_t d = 0; d < nd; ++d) regions.push_back(pieces[d][pick[d]].n);
      for (size_t d = 0; d < nd; ++d) regions.push_back(pieces[d][pick[d]].dst);
      for (size_t d = 0; d < nd; ++d) {
        const Piece& p = pieces[d][pick[d]];
        whole_block &= step[d] == 1 && p.src == 0 && p.n == ibs[d] && p.n == bs[d];
      }
      size_t d = nd;
      while (d-- > 0) {
        if (++pick[d] < pieces[d].size()) break;
        pick[d] = 0;
      }
      if (d == static_cast<size_t>(-1)) break;
    }
    if (args.size() == 1 && whole_block) {
      // The output block is exactly one input block: reuse it, no task.
      blocks.Reuse(std::get<ObjectRef>(args[0]));
      return;
    }
    args.emplace_back(shape_scalar(bs));
    args.emplace_back(int_scalar(static_cast<int64_t>(ig.dtype())));
    args.emplace_back(Scalar{std::move(regions)});
    blocks.Add("array.gather", std::move(args), input_bytes, engine::OutputSpec{ig.dtype(), bs});
  });
  return make_array(in.ctx, std::move(og), std::move(blocks).Run());
}

BlockArray reshape_blocks(const BlockArray& x, const ArrayGrid& grid) {
  const auto& in = *x.impl();
  std::vector<ObjectRef> blocks;
  blocks.reserve(in.blocks.size());
  for (size_t k = 0; k < in.blocks.size(); ++k) {
    const Shape bs = grid.block_shape_at(grid.entry(static_cast<int64_t>(k)));
    blocks.push_back(submit(*in.ctx, "array.reshape_block", {in.blocks[k], shape_scalar(bs)},
                            in.blocks[k].node()));
  }
  return make_array(in.ctx, grid, std::move(blocks));
}

}  // namespace detail

using detail::ObjectRef;

const std::shared_ptr<BlockArray::Impl>& BlockArray::impl() const {
  if (!impl_) return impl_;
  std::lock_guard lock(impl_->expr_mu);
  if (impl_->expr) {
    detail::submit_expression(*impl_);
  } else if (impl_->view) {
    // The source is another Impl (a snapshot), so its lock is not this one.
    impl_->blocks = detail::transpose_blocks(impl_->view->source, impl_->view->axes).impl()->blocks;
    impl_->view.reset();
  }
  return impl_;
}

const Shape& BlockArray::shape() const { return impl_->grid.shape(); }
const Shape& BlockArray::block_shape() const { return impl_->grid.block_shape(); }
const Shape& BlockArray::grid_shape() const { return impl_->grid.grid_shape(); }
const ArrayGrid& BlockArray::grid() const { return impl_->grid; }
DType BlockArray::dtype() const { return impl_->grid.dtype(); }
int64_t BlockArray::ndim() const { return impl_->grid.ndim(); }
int64_t BlockArray::size() const { return impl_->grid.size(); }
int64_t BlockArray::nbytes() const { return size() * itemsize(dtype()); }
Context BlockArray::context() const { return Context(impl_->ctx); }

std::vector<int64_t> BlockArray::block_nodes() const {
  std::vector<int64_t> nodes;
  for (const auto& r : impl()->blocks) nodes.push_back(r.node());
  return nodes;
}

namespace {
// get() of at least this many bytes shows a progress bar on a terminal.
constexpr int64_t kProgressGetBytes = int64_t{256} << 20;
}  // namespace

NDArray BlockArray::get() const {
  const ArrayGrid& g = impl_->grid;
  engine::Block out = engine::Block::Allocate(g.dtype(), g.shape());
  const size_t nd = g.shape().size();
  const Shape ones(nd, 1), zeros(nd, 0);
  // A large gather on a terminal shows a bar: the blocks then come in a few groups instead of
  // all at once, so that there is progress to show.
  const auto& refs = impl()->blocks;  // computes a pending expression
  ProgressBar progress("get", out.nbytes() >= kProgressGetBytes ? out.nbytes() : 0,
                       {.mode = out.nbytes() >= kProgressGetBytes ? ProgressOptions::Mode::kAuto
                                                                  : ProgressOptions::Mode::kOff});
  const size_t group = progress.enabled() ? std::max<size_t>(1, refs.size() / 20) : refs.size();
  for (size_t first = 0; first < refs.size(); first += group) {
    const size_t last = std::min(refs.size(), first + group);
    const auto blocks = impl_->ctx->runtime->Get(
        std::vector<engine::ObjectRef>(refs.begin() + static_cast<std::ptrdiff_t>(first),
                                       refs.begin() + static_cast<std::ptrdiff_t>(last)));
    for (size_t k = first; k < last; ++k) {
      const engine::Block& b = blocks[k - first];
      const Shape e = g.entry(static_cast<int64_t>(k));
      const Shape off = g.block_offset(e);
      kernels::CopyRegion(b, out, zeros.data(), ones.data(), b.shape().data(), off.data());
      progress.advance(b.nbytes());
    }
  }
  progress.finish();
  auto buffer = out.buffer();
  void* data = buffer ? static_cast<void*>(buffer->data()) : nullptr;
  return NDArray(g.dtype(), g.shape(), std::move(buffer), data);
}

void BlockArray::wait() const { nums::wait({*this}); }

void wait(const std::vector<BlockArray>& arrays) {
  for (const BlockArray& x : arrays) {
    if (!x.impl()) throw ValueError("wait: a BlockArray is empty (default-constructed)");
  }
  // One Await for each run of arrays of one context: a cluster asks each node once for them all.
  for (size_t i = 0; i < arrays.size();) {
    const std::shared_ptr<engine::Runtime>& runtime = arrays[i].impl()->ctx->runtime;
    size_t end = i + 1;
    while (end < arrays.size() && arrays[end].impl()->ctx->runtime == runtime) ++end;
    if (end == i + 1) {
      runtime->Await(arrays[i].impl()->blocks);  // no copy of the refs for the common case
    } else {
      std::vector<engine::ObjectRef> blocks;
      for (size_t j = i; j < end; ++j) {
        const std::vector<engine::ObjectRef>& b = arrays[j].impl()->blocks;
        blocks.insert(blocks.end(), b.begin(), b.end());
      }
      runtime->Await(blocks);
    }
    i = end;
  }
}

Eigen::MatrixXd BlockArray::to_eigen() const {
  if (ndim() > 2) {
    throw ShapeError("to_eigen: array of shape " + shape_str(shape()) + " has more than 2 axes");
  }
  const NDArray a = get();
  const int64_t rows = ndim() == 0 ? 1 : shape()[0];
  const int64_t cols = ndim() == 2 ? shape()[1] : 1;
  Eigen::MatrixXd m(rows, cols);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) m(i, j) = a.value_at<double>(i * cols + j);
  }
  return m;
}

BlockArray BlockArray::astype(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  return detail::elementwise(detail::ExprKind::kAstype, static_cast<int64_t>(dtype), "array.astype",
                             {this, 1}, dtype, "astype");
}

BlockArray BlockArray::copy() const {
  // Blocks are immutable, so a copy shares them; writes through either handle replace blocks. A
  // pending expression is shared too: whichever handle is used first submits it for both.
  std::lock_guard lock(impl_->expr_mu);
  if (impl_->expr) return detail::make_pending(impl_->ctx, impl_->grid, impl_->expr);
  if (impl_->view) return detail::make_transposed(impl_->ctx, impl_->grid, impl_->view);
  return detail::make_array(impl_->ctx, impl_->grid, impl_->blocks);
}

BlockArray BlockArray::rechunk(const Shape& block_shape) const {
  const Shape bs = detail::choose_block_shape(*impl_->ctx, shape(), dtype(), block_shape);
  if (ArrayGrid(shape(), bs, dtype()) == grid()) return *this;
  return detail::strided_view(*this, Shape(static_cast<size_t>(ndim()), 0),
                              Shape(static_cast<size_t>(ndim()), 1), shape(), bs);
}

void detail::check_same_kind(DType from, DType to, const char* op) {
  auto kind = [](DType t) {
    return t == DType::kBool ? 0 : is_integer(t) ? 1 : is_complex(t) ? 3 : 2;
  };
  if (kind(from) > kind(to)) {
    throw DTypeError(std::string(op) + ": cannot cast the result of dtype " +
                     std::string(dtype_name(from)) + " to the array's dtype " +
                     std::string(dtype_name(to)) + " with casting rule 'same_kind'");
  }
}

namespace {

BlockArray& assign_in_place(BlockArray& a, const BlockArray& result, const char* op) {
  if (result.shape() != a.shape()) {
    throw ShapeError(std::string(op) + ": result of shape " + shape_str(result.shape()) +
                     " does not fit the array of shape " + shape_str(a.shape()));
  }
  detail::check_same_kind(result.dtype(), a.dtype(), op);
  BlockArray r = result.astype(a.dtype()).rechunk(a.block_shape());
  a.impl()->set_blocks(r.grid(), r.impl()->blocks);
  return a;
}

}  // namespace

BlockArray& operator+=(BlockArray& a, const BlockArray& b) {
  return assign_in_place(a, a + b, "+=");
}
BlockArray& operator-=(BlockArray& a, const BlockArray& b) {
  return assign_in_place(a, a - b, "-=");
}
BlockArray& operator*=(BlockArray& a, const BlockArray& b) {
  return assign_in_place(a, a * b, "*=");
}
BlockArray& operator/=(BlockArray& a, const BlockArray& b) {
  return assign_in_place(a, a / b, "/=");
}

}  // namespace nums
