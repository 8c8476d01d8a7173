// Sort CPU kernels: block-local sorts along an axis, and the steps of the distributed sample sort
// (sample, splitters, partition into buckets, sort a bucket), plus the per-block counts of
// searchsorted. Elements are compared through their sort keys (src/kernels/sort_keys.h).

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "src/kernels/cpu/kernels.h"
#include "src/kernels/cpu/loops.h"
#include "src/kernels/sort_keys.h"

namespace nums::kernels {

void RadixSort(uint64_t* keys, int64_t* payload, int64_t n, uint64_t* tmp_keys,
               int64_t* tmp_payload) {
  if (n <= 1) return;
  if (n <= 32) {
    // Insertion sort: stable, and cheaper than 256-entry histograms for a handful of keys.
    for (int64_t i = 1; i < n; ++i) {
      const uint64_t k = keys[i];
      const int64_t p = payload ? payload[i] : 0;
      int64_t j = i;
      for (; j > 0 && keys[j - 1] > k; --j) {
        keys[j] = keys[j - 1];
        if (payload) payload[j] = payload[j - 1];
      }
      keys[j] = k;
      if (payload) payload[j] = p;
    }
    return;
  }
  std::vector<std::array<int64_t, 256>> hist(8);
  for (auto& h : hist) h.fill(0);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t k = keys[i];
    for (size_t b = 0; b < 8; ++b) ++hist[b][(k >> (8 * b)) & 255];
  }
  uint64_t* src = keys;
  uint64_t* dst = tmp_keys;
  int64_t* psrc = payload;
  int64_t* pdst = tmp_payload;
  for (size_t b = 0; b < 8; ++b) {
    auto& h = hist[b];
    const int64_t first = static_cast<int64_t>((src[0] >> (8 * b)) & 255);
    if (h[static_cast<size_t>(first)] == n) continue;  // every key has this byte
    int64_t sum = 0;
    for (auto& c : h) {
      const int64_t count = c;
      c = sum;
      sum += count;
    }
    const int shift = static_cast<int>(8 * b);
    if (psrc) {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t pos = h[(src[i] >> shift) & 255]++;
        dst[pos] = src[i];
        pdst[pos] = psrc[i];
      }
      std::swap(psrc, pdst);
    } else {
      for (int64_t i = 0; i < n; ++i) dst[h[(src[i] >> shift) & 255]++] = src[i];
    }
    std::swap(src, dst);
  }
  if (src != keys) {
    std::memcpy(keys, src, static_cast<size_t>(n) * sizeof(uint64_t));
    if (payload) std::memcpy(payload, psrc, static_cast<size_t>(n) * sizeof(int64_t));
  }
}

namespace {

using engine::Block;
using engine::Device;
using engine::KernelContext;

KeyOrder OrderScalars(const KernelContext& ctx, size_t first) {
  return KeyOrder{.descending = ctx.scalar<bool>(first),
                  .merge_zeros = ctx.scalar<bool>(first + 1)};
}

// inputs [block], scalars [axis, descending, want_indices]: each line along `axis` sorted; the
// sorted values, or (want_indices) the int64 positions along the axis that sort it, ties in
// index order.
std::vector<Block> SortLines(const KernelContext& ctx) {
  const Block& in = ctx.inputs[0];
  const int64_t axis = ctx.scalar<int64_t>(0);
  const bool want_indices = ctx.scalar<bool>(2);
  const KeyOrder order{.descending = ctx.scalar<bool>(1), .merge_zeros = want_indices};
  if (axis < 0 || axis >= in.ndim()) {
    throw ValueError("sort.lines: axis " + std::to_string(axis) +
                     " out of range for a block of shape " + engine::ShapeToString(in.shape()));
  }
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t d = 0; d < in.ndim(); ++d) {
    const int64_t s = in.shape()[static_cast<size_t>(d)];
    if (d < axis) outer *= s;
    if (d == axis) n = s;
    if (d > axis) inner *= s;
  }
  Block out = Block::Allocate(want_indices ? DType::kInt64 : in.dtype(), in.shape());
  dispatch(in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pi = in.data<T>();
    const int64_t lines = outer * inner;
    ParallelRanges(lines, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(n, 1)),
                   [&](int64_t b, int64_t e) {
                     std::vector<uint64_t> keys(static_cast<size_t>(n)), tk(keys.size());
                     std::vector<int64_t> pos, tp;
                     if (want_indices) {
                       pos.resize(keys.size());
                       tp.resize(keys.size());
                     }
                     for (int64_t line = b; line < e; ++line) {
                       const int64_t o = line / inner, i = line % inner;
                       const int64_t base = o * n * inner + i;
                       for (int64_t j = 0; j < n; ++j) {
                         keys[static_cast<size_t>(j)] = SortKey(pi[base + j * inner], order);
                         if (want_indices) pos[static_cast<size_t>(j)] = j;
                       }
                       RadixSort(keys.data(), want_indices ? pos.data() : nullptr, n, tk.data(),
                                 want_indices ? tp.data() : nullptr);
                       if (want_indices) {
                         int64_t* po = out.data<int64_t>();
                         for (int64_t j = 0; j < n; ++j)
                           po[base + j * inner] = pos[static_cast<size_t>(j)];
                       } else {
                         T* po = out.data<T>();
                         for (int64_t j = 0; j < n; ++j) {
                           po[base + j * inner] =
                               FromSortKey<T>(keys[static_cast<size_t>(j)], order);
                         }
                       }
                     }
                   });
  });
  return {out};
}

// inputs [block], scalars [descending, merge_zeros, count]: the keys of min(count, size)
// elements, one drawn from each of that many equal strata of the block (a hash picks the
// position inside a stratum, so that periodic data does not fool the sample).
std::vector<Block> Sample(const KernelContext& ctx) {
  const Block& in = ctx.inputs[0];
  const KeyOrder order = OrderScalars(ctx, 0);
  const int64_t n = in.size();
  const int64_t m = std::min(n, std::max<int64_t>(ctx.scalar<int64_t>(2), 0));
  Block out = Block::Allocate(DType::kInt64, {m});
  auto* po = out.data<int64_t>();
  dispatch(in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pi = in.data<T>();
    for (int64_t j = 0; j < m; ++j) {
      const int64_t lo = j * n / m, hi = (j + 1) * n / m;
      uint64_t h = static_cast<uint64_t>(j) * 0x9E3779B97F4A7C15ull;  // Fibonacci hashing
      h ^= h >> 29;
      const int64_t at = lo + static_cast<int64_t>(h % static_cast<uint64_t>(hi - lo));
      po[j] = static_cast<int64_t>(SortKey(pi[at], order));
    }
  });
  return {out};
}

// inputs [sample blocks...], scalars [buckets]: buckets - 1 splitter keys (int64 holding the
// unsigned keys), the sample's quantiles; bucket r takes keys in [splitter r-1, splitter r).
std::vector<Block> Splitters(const KernelContext& ctx) {
  const int64_t p = ctx.scalar<int64_t>(0);
  if (p < 1) throw ValueError("sort.splitters: need at least one bucket, got " + std::to_string(p));
  std::vector<uint64_t> keys;
  for (const Block& b : ctx.inputs) {
    const auto* pk = b.data<int64_t>();
    for (int64_t i = 0; i < b.size(); ++i) keys.push_back(static_cast<uint64_t>(pk[i]));
  }
  std::sort(keys.begin(), keys.end());
  Block out = Block::Allocate(DType::kInt64, {p - 1});
  auto* po = out.data<int64_t>();
  const auto total = static_cast<int64_t>(keys.size());
  for (int64_t r = 1; r < p; ++r) {
    po[r - 1] = total == 0 ? -1 : static_cast<int64_t>(keys[static_cast<size_t>(r * total / p)]);
  }
  return {out};
}

enum class PayloadMode : int64_t { kNone = 0, kIndices = 1, kArray = 2 };

// inputs [block (1-d), splitters, payload?], scalars [descending, merge_zeros, payload mode,
// offset]: outputs [counts (int64, one per bucket), the block's elements of each bucket (in index
// order), then with a payload each bucket's payload: offset + position (indices) or the payload
// block's elements (array)].
std::vector<Block> Partition(const KernelContext& ctx) {
  const Block& in = ctx.inputs[0];
  const Block& spl = ctx.inputs[1];
  const KeyOrder order = OrderScalars(ctx, 0);
  const auto mode = static_cast<PayloadMode>(ctx.scalar<int64_t>(2));
  const int64_t offset = ctx.scalar<int64_t>(3);
  const int64_t n = in.size();
  const int64_t p = spl.size() + 1;
  if (mode == PayloadMode::kArray && (ctx.inputs.size() < 3 || ctx.inputs[2].size() != n ||
                                      ctx.inputs[2].dtype() != DType::kInt64)) {
    throw ShapeError("sort.partition: the payload must be an int64 block of shape " +
                     engine::ShapeToString(in.shape()));
  }
  const auto* sp = reinterpret_cast<const uint64_t*>(spl.data<int64_t>());
  std::vector<uint32_t> bucket(static_cast<size_t>(n));
  Block counts = Block::Allocate(DType::kInt64, {p});
  auto* pc = counts.data<int64_t>();
  std::fill(pc, pc + p, 0);
  std::vector<Block> outs{counts};
  dispatch(in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pi = in.data<T>();
    for (int64_t i = 0; i < n; ++i) {
      const uint64_t k = SortKey(pi[i], order);
      const auto r = static_cast<uint32_t>(std::upper_bound(sp, sp + p - 1, k) - sp);
      bucket[static_cast<size_t>(i)] = r;
      ++pc[r];
    }
    std::vector<T*> dst(static_cast<size_t>(p));
    for (int64_t r = 0; r < p; ++r) {
      outs.push_back(Block::Allocate(in.dtype(), {pc[r]}));
      dst[static_cast<size_t>(r)] = outs.back().template data<T>();
    }
    for (int64_t i = 0; i < n; ++i) *dst[bucket[static_cast<size_t>(i)]]++ = pi[i];
  });
  if (mode != PayloadMode::kNone) {
    std::vector<int64_t*> dst(static_cast<size_t>(p));
    for (int64_t r = 0; r < p; ++r) {
      outs.push_back(Block::Allocate(DType::kInt64, {pc[r]}));
      dst[static_cast<size_t>(r)] = outs.back().data<int64_t>();
    }
    const int64_t* pp = mode == PayloadMode::kArray ? ctx.inputs[2].data<int64_t>() : nullptr;
    for (int64_t i = 0; i < n; ++i)
      *dst[bucket[static_cast<size_t>(i)]]++ = pp ? pp[i] : offset + i;
  }
  return outs;
}

// inputs [k value pieces, then k payload pieces when has_payload], scalars [descending,
// merge_zeros, has_payload, emit_values, emit_payload]: the pieces joined in order and sorted
// stably; outputs the sorted values (emit_values) and the payload in that order (emit_payload).
std::vector<Block> SortBucket(const KernelContext& ctx) {
  const KeyOrder order = OrderScalars(ctx, 0);
  const bool has_payload = ctx.scalar<bool>(2);
  const bool emit_values = ctx.scalar<bool>(3), emit_payload = ctx.scalar<bool>(4);
  const size_t k = has_payload ? ctx.inputs.size() / 2 : ctx.inputs.size();
  if (k == 0 || (emit_payload && !has_payload)) {
    throw ValueError("sort.bucket: no pieces, or a payload asked for without one");
  }
  const DType dtype = ctx.inputs[0].dtype();
  int64_t total = 0;
  for (size_t i = 0; i < k; ++i) total += ctx.inputs[i].size();
  std::vector<uint64_t> keys(static_cast<size_t>(total)), tk(keys.size());
  std::vector<int64_t> pay, tp;
  if (has_payload) {
    pay.resize(keys.size());
    tp.resize(keys.size());
  }
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    int64_t at = 0;
    for (size_t i = 0; i < k; ++i) {
      const Block& b = ctx.inputs[i];
      const T* pi = b.data<T>();
      for (int64_t j = 0; j < b.size(); ++j)
        keys[static_cast<size_t>(at + j)] = SortKey(pi[j], order);
      if (has_payload) {
        const Block& q = ctx.inputs[k + i];
        if (q.size() != b.size()) throw ShapeError("sort.bucket: a payload piece's size differs");
        std::memcpy(pay.data() + at, q.data<int64_t>(), static_cast<size_t>(q.nbytes()));
      }
      at += b.size();
    }
  });
  RadixSort(keys.data(), has_payload ? pay.data() : nullptr, total, tk.data(),
            has_payload ? tp.data() : nullptr);
  std::vector<Block> outs;
  if (emit_values) {
    Block v = Block::Allocate(dtype, {total});
    dispatch(dtype, [&](auto tag) {
      using T = decltype(tag);
      T* pv = v.data<T>();
      for (int64_t j = 0; j < total; ++j)
        pv[j] = FromSortKey<T>(keys[static_cast<size_t>(j)], order);
    });
    outs.push_back(v);
  }
  if (emit_payload) {
    Block q = Block::Allocate(DType::kInt64, {total});
    std::memcpy(q.data<int64_t>(), pay.data(), static_cast<size_t>(q.nbytes()));
    outs.push_back(q);
  }
  return outs;
}

// inputs [values block, sorted block (1-d, ascending)], scalars [side_right]: for each value,
// how many elements of the sorted block come before it (< for left, <= for right, in sort order:
// NaN last, -0.0 equal to 0.0); int64 of the values' shape.
std::vector<Block> SearchCount(const KernelContext& ctx) {
  const Block& v = ctx.inputs[0];
  const Block& a = ctx.inputs[1];
  const bool right = ctx.scalar<bool>(0);
  if (a.dtype() != v.dtype()) throw DTypeError("sort.search_count: the blocks' dtypes differ");
  const KeyOrder order{.descending = false, .merge_zeros = true};
  Block out = Block::Allocate(DType::kInt64, v.shape());
  auto* po = out.data<int64_t>();
  dispatch(v.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.data<T>();
    const T* pv = v.data<T>();
    std::vector<uint64_t> keys(static_cast<size_t>(a.size()));
    for (int64_t i = 0; i < a.size(); ++i) keys[static_cast<size_t>(i)] = SortKey(pa[i], order);
    ParallelRanges(v.size(), kElementGrain / 8, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const uint64_t k = SortKey(pv[i], order);
        po[i] = (right ? std::upper_bound(keys.begin(), keys.end(), k)
                       : std::lower_bound(keys.begin(), keys.end(), k)) -
                keys.begin();
      }
    });
  });
  return {out};
}

}  // namespace

void RegisterSortKernels(engine::KernelRegistry& registry) {
  registry.Register("sort.lines", Device::kCpu, SortLines);
  registry.Register("sort.sample", Device::kCpu, Sample);
  registry.Register("sort.splitters", Device::kCpu, Splitters);
  registry.Register("sort.partition", Device::kCpu, Partition);
  registry.Register("sort.bucket", Device::kCpu, SortBucket);
  registry.Register("sort.search_count", Device::kCpu, SearchCount);
}

}  // namespace nums::kernels
