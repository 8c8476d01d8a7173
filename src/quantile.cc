// Order statistics: median, quantile, percentile and their NaN-skipping forms.
//
// Over all axes, by distributed selection on order keys (src/kernels/statistics_ops.h): the
// driver keeps, for each wanted rank r, a key range [lo, hi] known to hold the r-th smallest
// element and the count of elements below lo. Each round every block histograms its keys into
// 256 equal bins of each range where it lives (stats.select_hist); a reduction tree sums the
// histograms and only the sums reach the driver, which keeps the bin holding r. The range
// shrinks 256-fold per round, so after at most 8 rounds it is one key; rounds stop earlier once
// a range holds at most kGatherLimit elements, which each block then sends (stats.select_extract)
// for nth_element on the driver.
//
// Along some axes, the reduced axes are moved last and flattened, and the array re-blocked so
// that each block holds whole rows; each block then selects its rows' quantiles where it lives
// (stats.quantile_rows).

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "nums/creation.hpp"
#include "nums/shape.hpp"
#include "nums/statistics.hpp"
#include "src/array_impl.h"
#include "src/kernels/statistics_ops.h"
#include "src/statistics_impl.h"

namespace nums {

namespace detail {

namespace {
std::atomic<int64_t> g_driver_bytes{0};
}  // namespace

int64_t statistics_driver_bytes() { return g_driver_bytes.load(); }

std::vector<engine::Block> fetch_blocks(Context::Impl& ctx, const std::vector<ObjectRef>& refs) {
  std::vector<engine::Block> blocks = ctx.runtime->Get(refs);
  int64_t bytes = 0;
  for (const auto& b : blocks) bytes += b.size() * itemsize(b.dtype());
  g_driver_bytes += bytes;
  return blocks;
}

NDArray fetch(const BlockArray& x) {
  NDArray out = x.get();
  g_driver_bytes += out.nbytes();
  return out;
}

BlockArray sum_rows(std::shared_ptr<Context::Impl> ctx, std::vector<ObjectRef> blocks,
                    int64_t width, DType dtype) {
  const auto n = static_cast<int64_t>(blocks.size());
  if (n == 0) return zeros({width}, dtype);
  BlockArray rows =
      make_array(std::move(ctx), ArrayGrid({n, width}, {1, width}, dtype), std::move(blocks));
  return rows.sum(0);
}

}  // namespace detail

namespace {

using detail::ObjectRef;
using kernels::QuantileMethod;
using kernels::QuantilePoint;

// Ranges holding at most this many elements are gathered instead of narrowed further.
constexpr int64_t kGatherLimit = 8192;
constexpr int64_t kSelectBins = 256;

struct Request {
  std::vector<double> qs;  // in [0, 1]
  bool scalar_q = true;
  QuantileMethod method = QuantileMethod::kLinear;
  bool omit_nan = false;
  // What an empty slice gives: NaN (median, the nan* forms) or IndexError (quantile).
  bool empty_is_nan = false;
  const char* op = "quantile";
};

QuantileMethod parse_method(const std::string& m, const char* op) {
  if (m == "linear") return QuantileMethod::kLinear;
  if (m == "lower") return QuantileMethod::kLower;
  if (m == "higher") return QuantileMethod::kHigher;
  if (m == "nearest") return QuantileMethod::kNearest;
  if (m == "midpoint") return QuantileMethod::kMidpoint;
  throw ValueError(std::string(op) + ": method '" + m +
                   "' is not one of linear, lower, higher, nearest, midpoint");
}

DType result_dtype(DType in, QuantileMethod m) {
  if (kernels::IsDiscrete(m)) return in;
  return in == DType::kFloat32 ? DType::kFloat32 : DType::kFloat64;
}

bool is_float(DType t) { return is_floating(t); }

[[noreturn]] void throw_empty(const Request& r, const Shape& shape) {
  throw IndexError(std::string(r.op) +
                   ": cannot take a quantile of an empty slice (array of shape " +
                   shape_str(shape) + ")");
}

// NaN of `dtype` for every q, or IndexError when `dtype` cannot hold NaN or the request says so.
NDArray empty_result(const Request& r, DType dtype, const Shape& x_shape) {
  if (!r.empty_is_nan || !is_float(dtype)) throw_empty(r, x_shape);
  NDArray out(DType::kFloat64, {static_cast<int64_t>(r.qs.size())});
  for (int64_t i = 0; i < out.size(); ++i) {
    out.data<double>()[i] = std::numeric_limits<double>::quiet_NaN();
  }
  return out.astype(dtype);
}

// A rank's search state: its element lies in keys [lo, hi], above `below` elements.
struct Target {
  uint64_t lo = 0, hi = 0;
  int64_t below = 0, count = 0;
};

std::vector<int64_t> interval_scalar(const std::vector<std::pair<uint64_t, uint64_t>>& ivs) {
  std::vector<int64_t> flat;
  for (const auto& [lo, hi] : ivs) {
    flat.push_back(static_cast<int64_t>(lo));
    flat.push_back(static_cast<int64_t>(hi));
  }
  return flat;
}

// The distinct ranges of `ranks`' targets, and each target's index among them.
std::vector<std::pair<uint64_t, uint64_t>> distinct_ranges(const std::map<int64_t, Target>& ts,
                                                           const std::vector<int64_t>& ranks,
                                                           std::map<int64_t, size_t>& index) {
  std::vector<std::pair<uint64_t, uint64_t>> ivs;
  for (int64_t r : ranks) {
    const Target& t = ts.at(r);
    const std::pair<uint64_t, uint64_t> iv{t.lo, t.hi};
    auto it = std::find(ivs.begin(), ivs.end(), iv);
    index[r] = static_cast<size_t>(it - ivs.begin());
    if (it == ivs.end()) ivs.push_back(iv);
  }
  return ivs;
}

// The quantiles of all of x, 1-d of r.qs.size() in result_dtype: the selection described at the
// top of this file.
NDArray select_all(const BlockArray& x, const Request& r) {
  const DType out_dtype = result_dtype(x.dtype(), r.method);
  if (x.size() == 0) return empty_result(r, out_dtype, x.shape());
  const auto& in = *x.impl();
  auto& ctx = *in.ctx;
  const std::vector<int64_t> nodes = x.block_nodes();
  const auto nb = in.blocks.size();

  std::vector<ObjectRef> init(nb);
  for (size_t b = 0; b < nb; ++b) {
    init[b] = detail::submit(ctx, "stats.select_init", {in.blocks[b]}, nodes[b],
                             engine::OutputSpec{DType::kInt64, {4}});
  }
  int64_t valid = 0, nans = 0;
  uint64_t gmin = ~uint64_t{0}, gmax = 0;
  for (const auto& blk : detail::fetch_blocks(ctx, init)) {
    const int64_t* p = blk.data<int64_t>();
    valid += p[0];
    nans += p[1];
    if (p[0] > 0) {
      gmin = std::min(gmin, static_cast<uint64_t>(p[2]));
      gmax = std::max(gmax, static_cast<uint64_t>(p[3]));
    }
  }
  const auto nq = static_cast<int64_t>(r.qs.size());
  if (nans > 0 && !r.omit_nan) {
    NDArray out(DType::kFloat64, {nq});
    for (int64_t i = 0; i < nq; ++i) {
      out.data<double>()[i] = std::numeric_limits<double>::quiet_NaN();
    }
    // Discrete methods on floats keep the float dtype, so NaN fits.
    return out.astype(out_dtype);
  }
  if (valid == 0) return empty_result(r, out_dtype, x.shape());

  std::vector<QuantilePoint> points;
  std::map<int64_t, Target> targets;
  for (double q : r.qs) {
    points.push_back(kernels::VirtualIndex(r.method, q, valid));
    for (int64_t rank : {points.back().lo, points.back().hi}) {
      targets[rank] = Target{gmin, gmax, 0, valid};
    }
  }

  // Narrow the ranges that are still wide and crowded.
  for (;;) {
    std::vector<int64_t> pending;
    for (const auto& [rank, t] : targets) {
      if (t.lo < t.hi && t.count > kGatherLimit) pending.push_back(rank);
    }
    if (pending.empty()) break;
    std::map<int64_t, size_t> index;
    const auto ivs = distinct_ranges(targets, pending, index);
    const auto width = static_cast<int64_t>(ivs.size()) * kSelectBins;
    std::vector<ObjectRef> hists(nb);
    for (size_t b = 0; b < nb; ++b) {
      hists[b] = detail::submit(
          ctx, "stats.select_hist",
          {in.blocks[b], engine::Scalar{interval_scalar(ivs)}, detail::int_scalar(kSelectBins)},
          nodes[b], engine::OutputSpec{DType::kInt64, {1, width}});
    }
    const NDArray sums =
        detail::fetch(detail::sum_rows(in.ctx, std::move(hists), width, DType::kInt64));
    const int64_t* h = sums.data<int64_t>();
    for (int64_t rank : pending) {
      Target& t = targets[rank];
      const int64_t* hb = h + static_cast<int64_t>(index[rank]) * kSelectBins;
      const uint64_t w = (t.hi - t.lo) / static_cast<uint64_t>(kSelectBins) + 1;
      int64_t below = t.below, bin = 0;
      while (bin < kSelectBins - 1 && below + hb[bin] <= rank) below += hb[bin++];
      const uint64_t lo = t.lo + static_cast<uint64_t>(bin) * w;
      t.hi = t.hi - lo < w - 1 ? t.hi : lo + (w - 1);
      t.lo = lo;
      t.below = below;
      t.count = hb[bin];
    }
  }

  // Gather the elements of the ranges that are not yet one key.
  std::map<int64_t, uint64_t> key_of;
  std::vector<int64_t> open;
  for (const auto& [rank, t] : targets) {
    if (t.lo == t.hi) {
      key_of[rank] = t.lo;
    } else {
      open.push_back(rank);
    }
  }
  if (!open.empty()) {
    std::map<int64_t, size_t> index;
    const auto ivs = distinct_ranges(targets, open, index);
    std::vector<ObjectRef> parts(nb);
    for (size_t b = 0; b < nb; ++b) {
      // At most every element of the block per range, plus each range's count.
      const int64_t elems =
          shape_size(in.grid.block_shape_at(in.grid.entry(static_cast<int64_t>(b))));
      const auto most = static_cast<int64_t>(ivs.size()) * (elems + 1);
      parts[b] = detail::submit(ctx, "stats.select_extract",
                                {in.blocks[b], engine::Scalar{interval_scalar(ivs)}}, nodes[b],
                                engine::OutputSpec{DType::kInt64, {most}, true});
    }
    std::vector<std::vector<uint64_t>> keys(ivs.size());
    for (const auto& blk : detail::fetch_blocks(ctx, parts)) {
      const int64_t* p = blk.data<int64_t>();
      int64_t at = 0;
      for (auto& k : keys) {
        const int64_t c = p[at++];
        for (int64_t j = 0; j < c; ++j) k.push_back(static_cast<uint64_t>(p[at++]));
      }
    }
    for (int64_t rank : open) {
      auto& k = keys[index[rank]];
      const int64_t pos = rank - targets[rank].below;
      if (pos < 0 || pos >= static_cast<int64_t>(k.size())) {
        throw Error(std::string(r.op) + ": selection lost rank " + std::to_string(rank));
      }
      std::nth_element(k.begin(), k.begin() + pos, k.end());
      key_of[rank] = k[static_cast<size_t>(pos)];
    }
  }

  NDArray out(out_dtype, {nq});
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    auto fill = [&](auto otag) {
      using O = decltype(otag);
      for (int64_t i = 0; i < nq; ++i) {
        const QuantilePoint& pt = points[static_cast<size_t>(i)];
        const T a = kernels::FromOrderKey<T>(key_of.at(pt.lo));
        if (kernels::IsDiscrete(r.method)) {
          out.data<O>()[i] = static_cast<O>(a);
          continue;
        }
        const T b = kernels::FromOrderKey<T>(key_of.at(pt.hi));
        out.data<O>()[i] = static_cast<O>(kernels::Interpolate(r.method, static_cast<double>(a),
                                                               static_cast<double>(b), pt.gamma));
      }
    };
    // The result is of x's dtype (discrete methods), float32 or float64 (see result_dtype).
    if (out_dtype == x.dtype()) {
      fill(T{});
    } else if (out_dtype == DType::kFloat32) {
      fill(float{});
    } else {
      fill(double{});
    }
  });
  return out;
}

// The result's shape: q's axis (for a vector q), then x's shape without the reduced axes (or
// with them as 1 under keepdims).
Shape result_shape(const Request& r, const Shape& x_shape, const std::vector<int64_t>& axes,
                   bool keepdims) {
  Shape out;
  if (!r.scalar_q) out.push_back(static_cast<int64_t>(r.qs.size()));
  for (size_t d = 0; d < x_shape.size(); ++d) {
    const bool reduced = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
    if (!reduced) {
      out.push_back(x_shape[d]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

BlockArray quantile_impl(const BlockArray& x_in, const Request& r, const Axes& axis,
                         bool keepdims) {
  for (double q : r.qs) {
    if (!(q >= 0 && q <= 1)) {
      throw ValueError(std::string(r.op) + ": quantiles must be in the range [0, 1], got " +
                       std::to_string(q));
    }
  }
  detail::reject_complex(x_in, r.op);
  // float16 has no kernels: its quantiles are taken in float32 (exact: every float16 is one).
  if (x_in.dtype() == DType::kFloat16) {
    return quantile_impl(x_in.astype(DType::kFloat32), r, axis, keepdims).astype(DType::kFloat16);
  }
  // Bool reads as 0/1 for interpolation (NumPy refuses to subtract bools; median gives a float).
  const BlockArray x = !kernels::IsDiscrete(r.method) && x_in.dtype() == DType::kBool
                           ? x_in.astype(DType::kInt64)
                           : x_in;
  const std::vector<int64_t> axes = detail::normalize_axes(axis, x.ndim(), r.op);
  const Shape out_shape = result_shape(r, x.shape(), axes, keepdims);
  const DType out_dtype = result_dtype(x.dtype(), r.method);
  if (static_cast<int64_t>(axes.size()) == x.ndim()) {
    return from_ndarray(select_all(x, r).reshape(out_shape));
  }
  const auto nd = static_cast<size_t>(x.ndim());
  std::vector<int64_t> perm;
  Shape kept;
  int64_t m = 1, k = 1;
  for (size_t d = 0; d < nd; ++d) {
    if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) == axes.end()) {
      perm.push_back(static_cast<int64_t>(d));
      m *= x.shape()[d];
    }
  }
  for (int64_t a : axes) {
    perm.push_back(a);
    k *= x.shape()[static_cast<size_t>(a)];
  }
  const auto nq = static_cast<int64_t>(r.qs.size());
  if (m == 0 || nq == 0) return zeros(out_shape, out_dtype);
  if (k == 0) {
    const NDArray one = empty_result(r, out_dtype, x.shape());
    return full(out_shape, Number(one.size() > 0 ? one.value_at<double>(0) : 0.0), out_dtype);
  }
  bool identity = true;
  for (size_t d = 0; d < nd; ++d) identity = identity && perm[d] == static_cast<int64_t>(d);
  const BlockArray moved = identity ? x : x.transpose(perm);
  // Rows of about one input block's bytes, at least one whole row per block.
  const int64_t block_elems = std::max<int64_t>(1, shape_size(x.block_shape()));
  const int64_t rows = std::clamp<int64_t>(block_elems / k, 1, m);
  const BlockArray y = moved.reshape({m, k}, {rows, k});
  const auto& in = *y.impl();
  const std::vector<int64_t> nodes = y.block_nodes();
  std::vector<ObjectRef> blocks;
  const std::vector<double> qs = r.qs;
  for (size_t b = 0; b < in.blocks.size(); ++b) {
    const int64_t rows_b = in.grid.block_shape_at(in.grid.entry(static_cast<int64_t>(b)))[0];
    blocks.push_back(detail::submit(
        *in.ctx, "stats.quantile_rows",
        {in.blocks[b], engine::Scalar{qs}, detail::int_scalar(static_cast<int64_t>(r.method)),
         engine::Scalar{r.omit_nan}, detail::int_scalar(static_cast<int64_t>(out_dtype))},
        nodes[b], engine::OutputSpec{out_dtype, {nq, rows_b}}));
  }
  const BlockArray res =
      detail::make_array(in.ctx, ArrayGrid({nq, m}, {nq, rows}, out_dtype), std::move(blocks));
  return res.reshape(out_shape);
}

Request make_request(std::vector<double> qs, bool scalar_q, const std::string& method,
                     bool omit_nan, double scale, const char* op) {
  Request r;
  for (double& q : qs) {
    if (scale != 1 && !(q >= 0 && q <= scale)) {
      throw ValueError(std::string(op) + ": percentiles must be in the range [0, 100], got " +
                       std::to_string(q));
    }
    q /= scale;
  }
  r.qs = std::move(qs);
  r.scalar_q = scalar_q;
  r.method = parse_method(method, op);
  r.omit_nan = omit_nan;
  r.empty_is_nan = omit_nan;
  r.op = op;
  return r;
}

}  // namespace

BlockArray median(const BlockArray& x, Axes axis, bool keepdims) {
  Request r = make_request({0.5}, true, "linear", false, 1, "median");
  r.method = QuantileMethod::kMedian;
  r.empty_is_nan = true;
  return quantile_impl(x, r, axis, keepdims);
}

BlockArray nanmedian(const BlockArray& x, Axes axis, bool keepdims) {
  Request r = make_request({0.5}, true, "linear", true, 1, "nanmedian");
  r.method = QuantileMethod::kMedian;
  return quantile_impl(x, r, axis, keepdims);
}

#define NUMS_QUANTILE_FORMS(name, omit, scale)                                                    \
  BlockArray name(const BlockArray& x, double q, Axes axis, bool keepdims,                        \
                  const std::string& method) {                                                    \
    return quantile_impl(x, make_request({q}, true, method, omit, scale, #name), axis, keepdims); \
  }                                                                                               \
  BlockArray name(const BlockArray& x, const std::vector<double>& q, Axes axis, bool keepdims,    \
                  const std::string& method) {                                                    \
    return quantile_impl(x, make_request(q, false, method, omit, scale, #name), axis, keepdims);  \
  }
NUMS_QUANTILE_FORMS(quantile, false, 1)
NUMS_QUANTILE_FORMS(percentile, false, 100)
NUMS_QUANTILE_FORMS(nanquantile, true, 1)
NUMS_QUANTILE_FORMS(nanpercentile, true, 100)
#undef NUMS_QUANTILE_FORMS

}  // namespace nums
