#include "io/region.h"

#include <cstring>
#include <vector>

namespace nums::io {

void ForEachRun(const engine::Shape& shape, const engine::Shape& offset, const engine::Shape& count,
                const std::function<void(int64_t, int64_t, int64_t)>& f) {
  const size_t nd = shape.size();
  if (nd == 0) {
    f(0, 0, 1);
    return;
  }
  for (int64_t c : count) {
    if (c == 0) return;
  }
  // j: the outermost axis of the run; axes after it are spanned in full.
  size_t j = nd - 1;
  while (j > 0 && count[j] == shape[j]) --j;
  int64_t inner = 1;  // elements of one step along axis j in the file
  for (size_t d = j + 1; d < nd; ++d) inner *= shape[d];
  const int64_t run = count[j] * inner;
  std::vector<int64_t> stride(nd, 1);  // row-major element strides of the file's array
  for (size_t d = nd - 1; d-- > 0;) stride[d] = stride[d + 1] * shape[d + 1];
  std::vector<int64_t> idx(j, 0);  // position over the outer axes 0..j-1
  int64_t block_pos = 0;
  while (true) {
    int64_t file_pos = offset[j] * stride[j];
    for (size_t d = 0; d < j; ++d) file_pos += (offset[d] + idx[d]) * stride[d];
    for (size_t d = j + 1; d < nd; ++d) file_pos += offset[d] * stride[d];  // 0: full axes
    f(file_pos, block_pos, run);
    block_pos += run;
    size_t d = j;
    while (d > 0) {
      --d;
      if (++idx[d] < count[d]) break;
      idx[d] = 0;
      if (d == 0) return;
    }
    if (j == 0) return;
  }
}

void ByteSwap(void* data, int64_t n, int64_t itemsize) {
  if (itemsize == 8) {
    auto* p = static_cast<uint64_t*>(data);
    for (int64_t i = 0; i < n; ++i) p[i] = __builtin_bswap64(p[i]);
  } else if (itemsize == 4) {
    auto* p = static_cast<uint32_t*>(data);
    for (int64_t i = 0; i < n; ++i) p[i] = __builtin_bswap32(p[i]);
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
    case 4:
      return ReverseAxesTyped(static_cast<const uint32_t*>(src), src_shape,
                              static_cast<uint32_t*>(dst));
    default:
      return ReverseAxesTyped(static_cast<const uint64_t*>(src), src_shape,
                              static_cast<uint64_t*>(dst));
  }
}

}  // namespace nums::io
