// Histograms, bincount and digitize. The bin edges are a few numbers chosen on the driver (from
// the range, or from min and max reduced on the cluster); every block counts its own elements
// where it lives (stats.histogram, stats.bincount) and a reduction tree sums the per-block
// counts, so only the counts reach the driver side. digitize is elementwise against the edges.

#include <cmath>
#include <sstream>
#include <string>

#include "nums/creation.hpp"
#include "nums/statistics.hpp"
#include "src/array_impl.h"
#include "src/statistics_impl.h"

namespace nums {

namespace {

std::string num_str(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// np.histogram's edges for `bins` equal bins: the range, or x's min and max.
std::vector<double> uniform_edges(const BlockArray& x, int64_t bins,
                                  std::optional<std::pair<double, double>> range) {
  if (bins < 1) {
    throw ValueError("histogram: `bins` must be positive, when an integer, got " +
                     std::to_string(bins));
  }
  double first = 0, last = 1;
  if (range) {
    first = range->first;
    last = range->second;
    if (first > last) {
      throw ValueError("histogram: max must be larger than min in range parameter, got (" +
                       num_str(first) + ", " + num_str(last) + ")");
    }
    if (!std::isfinite(first) || !std::isfinite(last)) {
      throw ValueError("histogram: supplied range of [" + num_str(first) + ", " + num_str(last) +
                       "] is not finite");
    }
  } else if (x.size() > 0) {
    const BlockArray xd = x.astype(DType::kFloat64);
    first = detail::fetch(xd.min()).item<double>();
    last = detail::fetch(xd.max()).item<double>();
    if (!std::isfinite(first) || !std::isfinite(last)) {
      throw ValueError("histogram: autodetected range of [" + num_str(first) + ", " +
                       num_str(last) + "] is not finite");
    }
  }
  if (first == last) {
    first -= 0.5;
    last += 0.5;
  }
  // np.linspace: start + i * step, the last edge exactly `last`.
  std::vector<double> edges(static_cast<size_t>(bins) + 1);
  const double step = (last - first) / static_cast<double>(bins);
  for (int64_t i = 0; i < bins; ++i)
    edges[static_cast<size_t>(i)] = static_cast<double>(i) * step + first;
  edges.back() = last;
  return edges;
}

// `w` checked against x's shape and laid out in x's blocks.
BlockArray aligned_weights(const BlockArray& x, const BlockArray& w, const char* op) {
  detail::check_same_context(x, w, op);
  if (w.shape() != x.shape()) {
    throw ShapeError(std::string(op) + ": weights of shape " + shape_str(w.shape()) +
                     " should have the shape of a, " + shape_str(x.shape()));
  }
  return w.block_shape() == x.block_shape() ? w : w.rechunk(x.block_shape());
}

// One (1, width) task per block of x (and its weights), summed over the blocks.
BlockArray per_block_counts(const BlockArray& x, const std::optional<BlockArray>& w,
                            const char* kernel, std::vector<engine::TaskArg> scalars,
                            int64_t width) {
  const DType dtype = w ? DType::kFloat64 : DType::kInt64;
  if (x.size() == 0) return zeros({width}, dtype);
  const auto& in = *x.impl();
  const std::vector<int64_t> nodes = x.block_nodes();
  std::vector<detail::ObjectRef> parts;
  for (size_t b = 0; b < in.blocks.size(); ++b) {
    std::vector<engine::TaskArg> args{in.blocks[b]};
    if (w) args.emplace_back(w->impl()->blocks[b]);
    args.insert(args.end(), scalars.begin(), scalars.end());
    parts.push_back(detail::submit(*in.ctx, kernel, std::move(args), nodes[b],
                                   engine::OutputSpec{dtype, {1, width}}));
  }
  return detail::sum_rows(in.ctx, std::move(parts), width, dtype);
}

Histogram histogram_impl(const BlockArray& x_in, const std::vector<double>& edges, bool uniform,
                         const std::optional<BlockArray>& weights, bool density) {
  detail::reject_complex(x_in, "histogram");
  const BlockArray x = x_in.dtype() == DType::kBool      ? x_in.astype(DType::kInt64)
                       : x_in.dtype() == DType::kFloat16 ? x_in.astype(DType::kFloat32)
                                                         : x_in;
  std::optional<BlockArray> w;
  if (weights) w = aligned_weights(x, *weights, "histogram");
  const auto nb = static_cast<int64_t>(edges.size()) - 1;
  BlockArray counts = per_block_counts(x, w, "stats.histogram",
                                       {engine::Scalar{edges}, engine::Scalar{uniform}}, nb);
  // NumPy sums in the weights' dtype.
  if (w && w->dtype() != DType::kBool) counts = counts.astype(w->dtype());
  const BlockArray edge_array = from_ndarray(NDArray::from_vector(edges));
  if (density) {
    std::vector<double> widths(static_cast<size_t>(nb));
    for (int64_t i = 0; i < nb; ++i) {
      widths[static_cast<size_t>(i)] =
          edges[static_cast<size_t>(i) + 1] - edges[static_cast<size_t>(i)];
    }
    const BlockArray c = counts.astype(DType::kFloat64);
    counts = c / from_ndarray(NDArray::from_vector(widths)) / c.sum();
  }
  return {counts, edge_array};
}

}  // namespace

Histogram histogram(const BlockArray& x, int64_t bins,
                    std::optional<std::pair<double, double>> range,
                    const std::optional<BlockArray>& weights, bool density) {
  return histogram_impl(x, uniform_edges(x, bins, range), true, weights, density);
}

Histogram histogram(const BlockArray& x, const std::vector<double>& edges,
                    const std::optional<BlockArray>& weights, bool density) {
  if (edges.size() < 2) {
    throw ValueError("histogram: `bins` must hold at least two edges, got " +
                     std::to_string(edges.size()));
  }
  for (size_t i = 0; i + 1 < edges.size(); ++i) {
    if (edges[i] > edges[i + 1]) {
      throw ValueError("histogram: `bins` must increase monotonically, when an array (edge " +
                       std::to_string(i) + " is " + num_str(edges[i]) + ", edge " +
                       std::to_string(i + 1) + " is " + num_str(edges[i + 1]) + ")");
    }
  }
  return histogram_impl(x, edges, false, weights, density);
}

BlockArray histogram_bin_edges(const BlockArray& x, int64_t bins,
                               std::optional<std::pair<double, double>> range) {
  return from_ndarray(NDArray::from_vector(uniform_edges(x, bins, range)));
}

BlockArray bincount(const BlockArray& x, const std::optional<BlockArray>& weights,
                    int64_t minlength) {
  if (x.ndim() != 1) {
    throw ShapeError("bincount: x must be 1-d, got shape " + shape_str(x.shape()));
  }
  if (is_floating(x.dtype()) || x.dtype() == DType::kUInt64) {
    throw DTypeError("bincount: cannot cast array data from " + std::string(dtype_name(x.dtype())) +
                     " to int64 according to the rule 'safe'");
  }
  if (minlength < 0) {
    throw ValueError("bincount: minlength must not be negative, got " + std::to_string(minlength));
  }
  std::optional<BlockArray> w;
  if (weights) w = aligned_weights(x, *weights, "bincount");
  int64_t len = minlength;
  if (x.size() > 0) {
    const BlockArray xi = x.astype(DType::kInt64);
    if (detail::fetch(xi.min()).item<int64_t>() < 0) {
      throw ValueError("bincount: x must have no negative elements");
    }
    len = std::max(len, detail::fetch(xi.max()).item<int64_t>() + 1);
  }
  return per_block_counts(x, w, "stats.bincount", {detail::int_scalar(len)}, len);
}

BlockArray digitize(const BlockArray& x, const BlockArray& bins, bool right) {
  if (bins.ndim() != 1) {
    throw ShapeError("digitize: bins must be 1-d, got shape " + shape_str(bins.shape()));
  }
  detail::check_same_context(x, bins, "digitize");
  const std::vector<double> b = detail::fetch(bins).to_vector<double>();
  bool inc = true, dec = true;
  for (size_t i = 0; i + 1 < b.size(); ++i) {
    inc = inc && b[i] <= b[i + 1];
    dec = dec && b[i] >= b[i + 1];
  }
  if (!inc && !dec) {
    throw ValueError("digitize: bins must be monotonically increasing or decreasing");
  }
  // float16 has no kernels; float32 holds it exactly.
  const BlockArray xs = x.dtype() == DType::kFloat16 ? x.astype(DType::kFloat32) : x;
  return detail::map_blocks("stats.digitize", {xs},
                            {engine::Scalar{b}, engine::Scalar{right}, engine::Scalar{inc}},
                            DType::kInt64, "digitize");
}

}  // namespace nums
