#include "io/region.h"

#include <cstring>
#include <string>
#include <vector>

#include "nums/errors.hpp"

namespace nums::io {

void ForEachRunBetween(const engine::Shape& src_shape, const engine::Shape& src_offset,
                       const engine::Shape& dst_shape, const engine::Shape& dst_offset,
                       const engine::Shape& count,
                       const std::function<void(int64_t, int64_t, int64_t)>& f) {
  const size_t nd = count.size();
  if (nd == 0) {
    f(0, 0, 1);
    return;
  }
  for (int64_t c : count) {
    if (c == 0) return;
  }
  // j: the outermost axis of a run; the axes after it are spanned in full in both arrays.
  size_t j = nd - 1;
  while (j > 0 && count[j] == src_shape[j] && count[j] == dst_shape[j]) --j;
  int64_t run = 1;
  for (size_t d = j; d < nd; ++d) run *= count[d];
  std::vector<int64_t> src_stride(nd, 1), dst_stride(nd, 1);  // row-major element strides
  for (size_t d = nd - 1; d-- > 0;) {
    src_stride[d] = src_stride[d + 1] * src_shape[d + 1];
    dst_stride[d] = dst_stride[d + 1] * dst_shape[d + 1];
  }
  int64_t src_base = 0, dst_base = 0;
  for (size_t d = 0; d < nd; ++d) {
    src_base += src_offset[d] * src_stride[d];
    dst_base += dst_offset[d] * dst_stride[d];
  }
  std::vector<int64_t> idx(j, 0);  // position over the outer axes 0..j-1
  while (true) {
    int64_t src_pos = src_base, dst_pos = dst_base;
    for (size_t d = 0; d < j; ++d) {
      src_pos += idx[d] * src_stride[d];
      dst_pos += idx[d] * dst_stride[d];
    }
    f(src_pos, dst_pos, run);
    size_t d = j;
    while (true) {
      if (d == 0) return;
      --d;
      if (++idx[d] < count[d]) break;
      idx[d] = 0;
    }
  }
}

void ForEachRun(const engine::Shape& shape, const engine::Shape& offset, const engine::Shape& count,
                const std::function<void(int64_t, int64_t, int64_t)>& f) {
  ForEachRunBetween(shape, offset, count, engine::Shape(count.size(), 0), count, f);
}

void ByteSwap(void* data, int64_t n, int64_t itemsize) {
  if (itemsize == 16) {  // complex128: each float64 part on its own
    ByteSwap(data, 2 * n, 8);
  } else if (itemsize == 8) {
    auto* p = static_cast<uint64_t*>(data);
    for (int64_t i = 0; i < n; ++i) p[i] = __builtin_bswap64(p[i]);
  } else if (itemsize == 4) {
    auto* p = static_cast<uint32_t*>(data);
    for (int64_t i = 0; i < n; ++i) p[i] = __builtin_bswap32(p[i]);
  } else if (itemsize == 2) {
    auto* p = static_cast<uint16_t*>(data);
    for (int64_t i = 0; i < n; ++i) p[i] = __builtin_bswap16(p[i]);
  }
}

namespace {

template <typename T>
void ReverseAxesTyped(const T* src, const engine::Shape& src_shape, T* dst) {
  const size_t nd = src_shape.size();
  int64_t n = 1;
  for (int64_t d : src_shape) n *= d;
  if (n == 0) return;
  if (nd <= 1) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(T));
    return;
  }
  // dst index (i_{nd-1}, ..., i_0) row-major; the matching src element is at sum i_d * s_d.
  std::vector<int64_t> src_stride(nd, 1);
  for (size_t d = nd - 1; d-- > 0;) src_stride[d] = src_stride[d + 1] * src_shape[d + 1];
  if (nd == 2) {
    const int64_t rows = src_shape[0], cols = src_shape[1];
    for (int64_t c = 0; c < cols; ++c) {
      for (int64_t r = 0; r < rows; ++r) dst[c * rows + r] = src[r * cols + c];
    }
    return;
  }
  // dst axis k is src axis nd-1-k; walk dst row-major with a counter.
  std::vector<int64_t> idx(nd, 0);
  int64_t src_pos = 0;
  for (int64_t k = 0; k < n; ++k) {
    dst[k] = src[src_pos];
    for (size_t a = nd; a-- > 0;) {  // dst axis a = src axis nd-1-a
      const size_t s = nd - 1 - a;
      ++idx[a];
      src_pos += src_stride[s];
      if (idx[a] < src_shape[s]) break;
      src_pos -= idx[a] * src_stride[s];
      idx[a] = 0;
    }
  }
}

}  // namespace

void ReverseAxes(const void* src, const engine::Shape& src_shape, int64_t itemsize, void* dst) {
  switch (itemsize) {
    case 1:
      return ReverseAxesTyped(static_cast<const uint8_t*>(src), src_shape,
                              static_cast<uint8_t*>(dst));
    case 2:
      return ReverseAxesTyped(static_cast<const uint16_t*>(src), src_shape,
                              static_cast<uint16_t*>(dst));
    case 4:
      return ReverseAxesTyped(static_cast<const uint32_t*>(src), src_shape,
                              static_cast<uint32_t*>(dst));
    case 8:
      return ReverseAxesTyped(static_cast<const uint64_t*>(src), src_shape,
                              static_cast<uint64_t*>(dst));
    case 16: {  // complex128, moved whole
      struct Item {
        uint64_t part[2];
      };
      return ReverseAxesTyped(static_cast<const Item*>(src), src_shape, static_cast<Item*>(dst));
    }
    default:
      throw ValueError("ReverseAxes: item size " + std::to_string(itemsize));
  }
}

}  // namespace nums::io
