// sort and argsort: block-local sorts where each line along the axis lies in one block, and a
// distributed sample sort for 1-d arrays of several blocks.
//
// Sample sort of x (1-d, blocks x_0 .. x_{k-1}, x_i on node n_i) into p buckets:
//   1. on n_i: S_i = keys of a stratified sample of x_i (at most kSamplePerBlock);
//   2. on n_0: splitters s_1 <= .. <= s_{p-1}, quantiles of the union of the S_i;
//   3. on n_i: x_i cut into pieces x_{i,r} = {e in x_i : s_r <= key(e) < s_{r+1}}, in index
//      order, plus the piece sizes c_{i,r} (the only thing the driver waits for);
//   4. bucket r = x_{0,r} ++ .. ++ x_{k-1,r} (L_r = sum_i c_{i,r} elements) sorted stably by one
//      task on the node of block r (p <= k, so buckets spread as blocks do); it pulls its pieces
//      from the nodes of the x_i, node to node;
//   5. the sorted buckets joined into blocks of x's block shape (tasks placed by the optimizer).
// Ties keep index order: pieces of a bucket are joined in block order, each in index order, and
// the bucket sort is stable; so every sort here is stable.

#include <algorithm>
#include <string>

#include "nums/shape.hpp"
#include "nums/sorting.hpp"
#include "src/shape_impl.h"
#include "src/sort_impl.h"

namespace nums {

using detail::ObjectRef;
using detail::Scalar;
using detail::TaskArg;

namespace detail {
namespace {

// Sample keys per block: with p buckets each bucket gets about this many sample keys, so its
// size is within a few percent of n / p on data without heavy repeats.
constexpr int64_t kSamplePerBlock = 256;

// Number of buckets: enough tasks for every core and node, but not one per block when blocks are
// many (pieces grow as blocks x buckets).
int64_t bucket_count(const Context::Impl& ctx, int64_t blocks) {
  return std::min(blocks, std::max<int64_t>(1, 2 * std::max(ctx.cores, ctx.num_nodes)));
}

}  // namespace

SortOutput sort_1d(const BlockArray& keys, const BlockArray* payload_in, const SortSpec& spec) {
  const auto& in = *keys.impl();
  auto& ctx = *in.ctx;
  const ArrayGrid& grid = in.grid;
  const int64_t k = grid.num_blocks();
  const int64_t n = keys.size();
  const bool has_payload = spec.payload != SortSpec::Payload::kNone;
  BlockArray payload;
  if (spec.payload == SortSpec::Payload::kArray) {
    payload = payload_in->block_shape() == keys.block_shape()
                  ? *payload_in
                  : payload_in->rechunk(keys.block_shape());
  }
  const std::vector<int64_t> nodes = keys.block_nodes();
  const int64_t p = bucket_count(ctx, k);
  const Scalar descending{spec.descending}, merge{spec.merge_zeros};

  // 1-2: samples where the blocks live, splitters on the first block's node.
  std::vector<TaskArg> samples;
  for (int64_t i = 0; p > 1 && i < k; ++i) {
    const int64_t len = grid.block_shape_at(grid.entry(i))[0];
    samples.emplace_back(
        submit(ctx, "sort.sample",
               {in.blocks[static_cast<size_t>(i)], descending, merge, int_scalar(kSamplePerBlock)},
               nodes[static_cast<size_t>(i)],
               engine::OutputSpec{DType::kInt64, {std::min(len, kSamplePerBlock)}}));
  }
  samples.emplace_back(int_scalar(p));
  const ObjectRef splitters = submit(ctx, "sort.splitters", std::move(samples), nodes[0],
                                     engine::OutputSpec{DType::kInt64, {p - 1}});

  // 3: each block cut into its buckets' pieces where it lives.
  std::vector<ObjectRef> counts;
  std::vector<std::vector<TaskArg>> value_pieces(static_cast<size_t>(p)),
      payload_pieces(static_cast<size_t>(p));
  int64_t offset = 0;
  for (int64_t i = 0; i < k; ++i) {
    const auto b = static_cast<size_t>(i);
    std::vector<TaskArg> args{in.blocks[b], splitters};
    if (spec.payload == SortSpec::Payload::kArray) args.emplace_back(payload.impl()->blocks[b]);
    args.insert(args.end(), {descending, merge, int_scalar(static_cast<int64_t>(spec.payload)),
                             int_scalar(offset)});
    std::vector<ObjectRef> outs =
        submit_n(ctx, "sort.partition", std::move(args), nodes[b], 1 + p * (has_payload ? 2 : 1));
    counts.push_back(outs[0]);
    for (int64_t r = 0; r < p; ++r) {
      value_pieces[static_cast<size_t>(r)].emplace_back(outs[static_cast<size_t>(1 + r)]);
      if (has_payload) {
        payload_pieces[static_cast<size_t>(r)].emplace_back(outs[static_cast<size_t>(1 + p + r)]);
      }
    }
    offset += grid.block_shape_at(grid.entry(i))[0];
  }
  std::vector<int64_t> lengths(static_cast<size_t>(p), 0);
  for (const engine::Block& c : ctx.runtime->Get(counts)) {
    for (int64_t r = 0; r < p; ++r) lengths[static_cast<size_t>(r)] += c.data<int64_t>()[r];
  }

  // 4: each bucket sorted near where its output goes.
  const ArrayGrid value_grid({n}, keys.block_shape(), keys.dtype());
  const ArrayGrid payload_grid({n}, keys.block_shape(), DType::kInt64);
  std::vector<std::vector<ObjectRef>> value_slabs(static_cast<size_t>(p)),
      payload_slabs(static_cast<size_t>(p));
  for (int64_t r = 0; r < p; ++r) {
    const auto rr = static_cast<size_t>(r);
    const int64_t len = lengths[rr];
    value_slabs[rr].resize(1);
    payload_slabs[rr].resize(1);
    if (len == 0) continue;
    // Bucket r on block r's node: buckets spread over the nodes as blocks are (p <= k).
    const int64_t node = home_node(ctx, value_grid, {r});
    std::vector<TaskArg> args = std::move(value_pieces[rr]);
    if (has_payload) args.insert(args.end(), payload_pieces[rr].begin(), payload_pieces[rr].end());
    args.insert(args.end(), {descending, merge, Scalar{has_payload}, Scalar{spec.want_values},
                             Scalar{spec.want_payload}});
    std::vector<engine::OutputSpec> out;
    if (spec.want_values) out.push_back({keys.dtype(), {len}});
    if (spec.want_payload) out.push_back({DType::kInt64, {len}});
    std::vector<ObjectRef> sorted =
        submit_n(ctx, "sort.bucket", std::move(args), node, static_cast<int64_t>(out.size()), out);
    if (spec.want_values) value_slabs[rr][0] = sorted[0];
    if (spec.want_payload) payload_slabs[rr][0] = sorted.back();
  }

  // 5: buckets joined into the output's blocks.
  SortOutput result;
  if (spec.want_values) result.values = join_slabs(in.ctx, value_grid, 0, lengths, value_slabs);
  if (spec.want_payload) {
    result.payload = join_slabs(in.ctx, payload_grid, 0, lengths, payload_slabs);
  }
  return result;
}

}  // namespace detail

namespace {

// Each block sorted along `axis` where it lives; every line along the axis lies in one block.
BlockArray local_sort(const BlockArray& x, int64_t axis, bool descending, bool indices) {
  const auto& in = *x.impl();
  const DType out = indices ? DType::kInt64 : x.dtype();
  const std::vector<int64_t> nodes = x.block_nodes();
  ArrayGrid grid(x.shape(), x.block_shape(), out);
  std::vector<ObjectRef> blocks;
  blocks.reserve(in.blocks.size());
  for (int64_t i = 0; i < in.grid.num_blocks(); ++i) {
    const auto b = static_cast<size_t>(i);
    blocks.push_back(detail::submit(
        *in.ctx, "sort.lines",
        {in.blocks[b], detail::int_scalar(axis), Scalar{descending}, Scalar{indices}}, nodes[b],
        engine::OutputSpec{out, in.grid.block_shape_at(in.grid.entry(i))}));
  }
  return detail::make_array(in.ctx, std::move(grid), std::move(blocks));
}

BlockArray sort_or_argsort(const BlockArray& x_in, std::optional<int64_t> axis, bool descending,
                           bool indices, const char* name) {
  // No float16 sort keys: float32 holds every float16 exactly, in the same order. (An empty
  // array needs no keys, and keeps its blocks below.)
  detail::reject_complex(x_in, name);
  if (x_in.dtype() == DType::kFloat16 && x_in.size() > 0) {
    const BlockArray r =
        sort_or_argsort(x_in.astype(DType::kFloat32), axis, descending, indices, name);
    return indices ? r : r.astype(DType::kFloat16);
  }
  BlockArray x = x_in;
  int64_t ax = 0;
  if (axis) {
    ax = detail::normalize_axis(*axis, x.ndim(), name);
  } else if (x.ndim() != 1) {
    x = x.flatten();
  }
  if (x.size() == 0) return indices ? x.astype(DType::kInt64) : x.copy();
  if (x.grid_shape()[static_cast<size_t>(ax)] == 1) return local_sort(x, ax, descending, indices);
  if (x.ndim() == 1) {
    detail::SortSpec spec;
    spec.descending = descending;
    spec.merge_zeros = indices;
    spec.payload = indices ? detail::SortSpec::Payload::kIndices : detail::SortSpec::Payload::kNone;
    spec.want_values = !indices;
    spec.want_payload = indices;
    detail::SortOutput r = detail::sort_1d(x, nullptr, spec);
    return indices ? r.payload : r.values;
  }
  // An n-d array with the axis over several blocks: every line whole in one block, then back.
  Shape whole = x.block_shape();
  whole[static_cast<size_t>(ax)] = x.shape()[static_cast<size_t>(ax)];
  return local_sort(x.rechunk(whole), ax, descending, indices).rechunk(x.block_shape());
}

}  // namespace

BlockArray sort(const BlockArray& x, std::optional<int64_t> axis, bool /*stable*/,
                bool descending) {
  return sort_or_argsort(x, axis, descending, false, "sort");
}

BlockArray argsort(const BlockArray& x, std::optional<int64_t> axis, bool /*stable*/,
                   bool descending) {
  return sort_or_argsort(x, axis, descending, true, "argsort");
}

}  // namespace nums
