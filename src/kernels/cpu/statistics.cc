// Statistics CPU kernels: the per-block steps of the distributed quantile selection (counts,
// key histograms, candidate extraction), quantiles of each row of a block, histograms, bincount
// and digitize.

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "src/kernels/cpu/kernels.h"
#include "src/kernels/ops.h"
#include "src/kernels/statistics_ops.h"

namespace nums::kernels {
namespace {

using engine::Block;
using engine::Device;
using engine::KernelContext;

// Intervals [lo, hi] of order keys, passed as pairs of int64 bit patterns.
struct KeyInterval {
  uint64_t lo = 0, hi = 0;
};

std::vector<KeyInterval> ReadIntervals(const std::vector<int64_t>& flat, const char* name) {
  if (flat.size() % 2 != 0) {
    throw ValueError(std::string(name) + ": intervals need an even number of bounds, got " +
                     std::to_string(flat.size()));
  }
  std::vector<KeyInterval> out(flat.size() / 2);
  for (size_t t = 0; t < out.size(); ++t) {
    out[t] = {static_cast<uint64_t>(flat[2 * t]), static_cast<uint64_t>(flat[2 * t + 1])};
    if (out[t].lo > out[t].hi) {
      throw ValueError(std::string(name) + ": interval " + std::to_string(t) + " is empty");
    }
  }
  return out;
}

// Bin width so that `bins` bins of it cover [lo, hi] (without overflowing uint64).
uint64_t BinWidth(const KeyInterval& iv, int64_t bins) {
  return (iv.hi - iv.lo) / static_cast<uint64_t>(bins) + 1;
}

template <typename O>
O NanOr(O zero) {
  if constexpr (std::is_floating_point_v<O>) {
    return std::numeric_limits<O>::quiet_NaN();
  } else {
    return zero;
  }
}

void RegisterSelectionKernels(engine::KernelRegistry& registry) {
  // inputs [block]: int64 [non-NaN count, NaN count, least key, greatest key] of the block's
  // elements (keys of statistics_ops.h; least > greatest when the block holds no number).
  registry.Register("stats.select_init", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    Block out = Block::Allocate(DType::kInt64, {4});
    int64_t* po = out.data<int64_t>();
    dispatch(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* p = in.data<T>();
      int64_t valid = 0, nans = 0;
      uint64_t lo = ~uint64_t{0}, hi = 0;
      for (int64_t k = 0; k < in.size(); ++k) {
        if (IsNan(p[k])) {
          ++nans;
          continue;
        }
        ++valid;
        const uint64_t key = OrderKey(p[k]);
        lo = std::min(lo, key);
        hi = std::max(hi, key);
      }
      po[0] = valid;
      po[1] = nans;
      po[2] = static_cast<int64_t>(lo);
      po[3] = static_cast<int64_t>(hi);
    });
    return std::vector<Block>{out};
  });
  // inputs [block], scalars [intervals (lo, hi pairs of keys), bins]: int64 (1, T * bins), the
  // count of the block's keys in each of `bins` equal bins of each interval.
  registry.Register("stats.select_hist", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    const auto ivs = ReadIntervals(ctx.scalar<std::vector<int64_t>>(0), "stats.select_hist");
    const int64_t bins = ctx.scalar<int64_t>(1);
    if (bins < 1) throw ValueError("stats.select_hist: bins must be positive");
    const auto t_count = static_cast<int64_t>(ivs.size());
    Block out = Block::Allocate(DType::kInt64, {1, t_count * bins});
    int64_t* po = out.data<int64_t>();
    std::fill(po, po + t_count * bins, int64_t{0});
    dispatch(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* p = in.data<T>();
      for (int64_t k = 0; k < in.size(); ++k) {
        if (IsNan(p[k])) continue;
        const uint64_t key = OrderKey(p[k]);
        for (int64_t t = 0; t < t_count; ++t) {
          const KeyInterval& iv = ivs[static_cast<size_t>(t)];
          if (key < iv.lo || key > iv.hi) continue;
          ++po[t * bins + static_cast<int64_t>((key - iv.lo) / BinWidth(iv, bins))];
        }
      }
    });
    return std::vector<Block>{out};
  });
  // inputs [block], scalars [intervals]: int64 1-d, for each interval in order its count c of
  // keys in it followed by those c keys (the candidates gathered at the end of a selection).
  registry.Register("stats.select_extract", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    const auto ivs = ReadIntervals(ctx.scalar<std::vector<int64_t>>(0), "stats.select_extract");
    std::vector<int64_t> found;
    dispatch(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* p = in.data<T>();
      for (const KeyInterval& iv : ivs) {
        const size_t at = found.size();
        found.push_back(0);
        for (int64_t k = 0; k < in.size(); ++k) {
          if (IsNan(p[k])) continue;
          const uint64_t key = OrderKey(p[k]);
          if (key >= iv.lo && key <= iv.hi) found.push_back(static_cast<int64_t>(key));
        }
        found[at] = static_cast<int64_t>(found.size() - at - 1);
      }
    });
    Block out = Block::Allocate(DType::kInt64, {static_cast<int64_t>(found.size())});
    std::copy(found.begin(), found.end(), out.data<int64_t>());
    return std::vector<Block>{out};
  });
}

// Quantiles of each row of an (m, k) block: out (nq, m) in `out_dtype`.
template <typename T, typename O>
void QuantileRows(const Block& in, const std::vector<double>& qs, QuantileMethod method,
                  bool omit_nan, Block& out) {
  const int64_t m = in.shape()[0], k = in.shape()[1];
  const auto nq = static_cast<int64_t>(qs.size());
  const T* p = in.data<T>();
  O* po = out.data<O>();
  // Not std::vector<T>: vector<bool> has no element references for nth_element.
  std::unique_ptr<T[]> row(new T[static_cast<size_t>(std::max<int64_t>(k, 1))]);
  for (int64_t r = 0; r < m; ++r) {
    int64_t n = 0;
    bool has_nan = false;
    for (int64_t j = 0; j < k; ++j) {
      const T v = p[r * k + j];
      if (IsNan(v)) {
        has_nan = true;
        continue;
      }
      row[static_cast<size_t>(n++)] = v;
    }
    T* b = row.get();
    for (int64_t i = 0; i < nq; ++i) {
      O& dst = po[i * m + r];
      if ((has_nan && !omit_nan) || n == 0) {
        dst = NanOr<O>(O{});
        continue;
      }
      const QuantilePoint pt = VirtualIndex(method, qs[static_cast<size_t>(i)], n);
      std::nth_element(b, b + pt.lo, b + n);
      const T lo = b[pt.lo];
      if (IsDiscrete(method)) {
        dst = static_cast<O>(lo);
        continue;
      }
      // The next order statistic is the least of what nth_element left above lo.
      const T hi = pt.hi == pt.lo ? lo : *std::min_element(b + pt.lo + 1, b + n);
      dst = static_cast<O>(
          Interpolate(method, static_cast<double>(lo), static_cast<double>(hi), pt.gamma));
    }
  }
}

void RegisterQuantileRowKernel(engine::KernelRegistry& registry) {
  // inputs [block (m, k)], scalars [quantiles in [0, 1], method, omit NaN, out dtype code]:
  // (nq, m), quantile i of row r at (i, r); NaN for a row with a NaN (unless omitted) or with no
  // number.
  registry.Register("stats.quantile_rows", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    if (in.ndim() != 2) {
      throw ShapeError("stats.quantile_rows: block of shape " + engine::ShapeToString(in.shape()) +
                       " is not 2-d");
    }
    const auto& qs = ctx.scalar<std::vector<double>>(0);
    const auto method = static_cast<QuantileMethod>(ctx.scalar<int64_t>(1));
    const bool omit_nan = ctx.scalar<bool>(2);
    const DType out_dtype = dtype_from_code(ctx.scalar<int64_t>(3));
    Block out = Block::Allocate(out_dtype, {static_cast<int64_t>(qs.size()), in.shape()[0]});
    dispatch(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      // Quantiles are of the data's dtype (discrete methods), float32 (of float32 data) or
      // float64: no instance for the other pairs.
      if (out_dtype == in.dtype()) {
        QuantileRows<T, T>(in, qs, method, omit_nan, out);
      } else if (out_dtype == DType::kFloat32) {
        QuantileRows<T, float>(in, qs, method, omit_nan, out);
      } else if (out_dtype == DType::kFloat64) {
        QuantileRows<T, double>(in, qs, method, omit_nan, out);
      } else {
        throw DTypeError("stats.quantile_rows: output dtype " + std::string(dtype_name(out_dtype)) +
                         " for data of dtype " + std::string(dtype_name(in.dtype())));
      }
    });
    return std::vector<Block>{out};
  });
}

// The bin of v among `edges` (increasing, last bin closed), or -1 outside them or for NaN.
// Uniform bins compute the bin from the value, then correct it by the edges, as NumPy does.
int64_t BinOf(double v, const std::vector<double>& edges, bool uniform) {
  const auto nb = static_cast<int64_t>(edges.size()) - 1;
  const double first = edges.front(), last = edges.back();
  if (!(v >= first && v <= last)) return -1;
  if (uniform) {
    const double norm = static_cast<double>(nb) / (last - first);
    auto i = static_cast<int64_t>((v - first) * norm);
    if (i >= nb) i = nb - 1;
    if (v < edges[static_cast<size_t>(i)]) --i;
    if (v >= edges[static_cast<size_t>(i + 1)] && i != nb - 1) ++i;
    return i;
  }
  const auto it = std::upper_bound(edges.begin(), edges.end(), v);
  return std::min<int64_t>(nb - 1, (it - edges.begin()) - 1);
}

void RegisterHistogramKernels(engine::KernelRegistry& registry) {
  // inputs [block, weights block of the same shape?], scalars [edges, uniform]: (1, bins) of
  // counts (int64) or of summed weights (float64).
  registry.Register("stats.histogram", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    const Block* w = ctx.inputs.size() > 1 ? &ctx.inputs[1] : nullptr;
    const auto& edges = ctx.scalar<std::vector<double>>(0);
    const bool uniform = ctx.scalar<bool>(1);
    if (edges.size() < 2) throw ValueError("stats.histogram: needs at least two edges");
    if (w != nullptr && w->shape() != in.shape()) {
      throw ShapeError("stats.histogram: weights block " + engine::ShapeToString(w->shape()) +
                       " for a block of shape " + engine::ShapeToString(in.shape()));
    }
    const auto nb = static_cast<int64_t>(edges.size()) - 1;
    Block out = Block::Allocate(w ? DType::kFloat64 : DType::kInt64, {1, nb});
    dispatch(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* p = in.data<T>();
      if (w == nullptr) {
        int64_t* po = out.data<int64_t>();
        std::fill(po, po + nb, int64_t{0});
        for (int64_t k = 0; k < in.size(); ++k) {
          const int64_t b = BinOf(static_cast<double>(p[k]), edges, uniform);
          if (b >= 0) ++po[b];
        }
        return;
      }
      double* po = out.data<double>();
      std::fill(po, po + nb, 0.0);
      dispatch(w->dtype(), [&](auto wtag) {
        using W = decltype(wtag);
        const W* pw = w->data<W>();
        for (int64_t k = 0; k < in.size(); ++k) {
          const int64_t b = BinOf(static_cast<double>(p[k]), edges, uniform);
          if (b >= 0) po[b] += static_cast<double>(pw[k]);
        }
      });
    });
    return std::vector<Block>{out};
  });
  // inputs [integer block, weights block?], scalars [length]: (1, length) counts of each value
  // (int64) or summed weights (float64). Values must lie in [0, length).
  registry.Register("stats.bincount", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    const Block* w = ctx.inputs.size() > 1 ? &ctx.inputs[1] : nullptr;
    const int64_t len = ctx.scalar<int64_t>(0);
    Block out = Block::Allocate(w ? DType::kFloat64 : DType::kInt64, {1, len});
    dispatch(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        throw DTypeError("stats.bincount: block of dtype " + std::string(dtype_name(in.dtype())));
      } else {
        const T* p = in.data<T>();
        const auto check = [&](int64_t v) {
          if (v < 0 || v >= len) {
            throw ValueError("stats.bincount: value " + std::to_string(v) + " outside [0, " +
                             std::to_string(len) + ")");
          }
          return v;
        };
        if (w == nullptr) {
          int64_t* po = out.data<int64_t>();
          std::fill(po, po + len, int64_t{0});
          for (int64_t k = 0; k < in.size(); ++k) ++po[check(static_cast<int64_t>(p[k]))];
          return;
        }
        double* po = out.data<double>();
        std::fill(po, po + len, 0.0);
        dispatch(w->dtype(), [&](auto wtag) {
          using W = decltype(wtag);
          const W* pw = w->data<W>();
          for (int64_t k = 0; k < in.size(); ++k) {
            po[check(static_cast<int64_t>(p[k]))] += static_cast<double>(pw[k]);
          }
        });
      }
    });
    return std::vector<Block>{out};
  });
  // inputs [block], scalars [bins (monotonic), right, increasing]: int64 of the block's shape,
  // NumPy's digitize: the index i with bins[i-1] <= x < bins[i] (increasing, not right), and the
  // other three cases as numpy.digitize. NaN sorts after every bin.
  registry.Register("stats.digitize", Device::kCpu, [](const KernelContext& ctx) {
    const Block& in = ctx.inputs[0];
    const auto& bins = ctx.scalar<std::vector<double>>(0);
    const bool right = ctx.scalar<bool>(1);
    const bool increasing = ctx.scalar<bool>(2);
    Block out = Block::Allocate(DType::kInt64, in.shape());
    int64_t* po = out.data<int64_t>();
    const auto nb = static_cast<int64_t>(bins.size());
    // NaN-last order, as np.searchsorted uses.
    const auto less = [](double a, double b) { return a < b || (!std::isnan(a) && std::isnan(b)); };
    std::vector<double> sorted(bins);
    if (!increasing) std::reverse(sorted.begin(), sorted.end());
    dispatch(in.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* p = in.data<T>();
      for (int64_t k = 0; k < in.size(); ++k) {
        const auto v = static_cast<double>(p[k]);
        // searchsorted side='right' unless `right` (then 'left'), on the increasing bins.
        const auto it = right ? std::lower_bound(sorted.begin(), sorted.end(), v, less)
                              : std::upper_bound(sorted.begin(), sorted.end(), v, less);
        const int64_t pos = it - sorted.begin();
        po[k] = increasing ? pos : nb - pos;
      }
    });
    return std::vector<Block>{out};
  });
}

}  // namespace

void RegisterStatisticsKernels(engine::KernelRegistry& registry) {
  RegisterSelectionKernels(registry);
  RegisterQuantileRowKernel(registry);
  RegisterHistogramKernels(registry);
}

}  // namespace nums::kernels
