#pragma once
// A block's region of a row-major array in a file, as the contiguous runs of elements it is made
// of, and the in-memory fix-ups a read may need (byte swap, Fortran order).

#include <cstdint>
#include <functional>

#include "engine/block.h"

namespace nums::io {

/// Calls f(file_element, block_element, elements) for each maximal contiguous run of the region
/// at `offset` of size `count` inside a row-major array of `shape`, in the region's row-major
/// order. Trailing dimensions the region spans in full coalesce into one run, so a block of full
/// rows is one run. Nothing for an empty region; one run of one element for 0-d.
void ForEachRun(const engine::Shape& shape, const engine::Shape& offset, const engine::Shape& count,
                const std::function<void(int64_t, int64_t, int64_t)>& f);

/// The general form: a region of `count` elements at `src_offset` in a row-major array of
/// `src_shape` goes to `dst_offset` in one of `dst_shape`; f(src_element, dst_element, elements)
/// for each run contiguous in both.
void ForEachRunBetween(const engine::Shape& src_shape, const engine::Shape& src_offset,
                       const engine::Shape& dst_shape, const engine::Shape& dst_offset,
                       const engine::Shape& count,
                       const std::function<void(int64_t, int64_t, int64_t)>& f);

/// Reverses the byte order of `n` elements of `itemsize` bytes (1, 2, 4 or 8; 16: the two
/// halves of a complex128 each) in place.
void ByteSwap(void* data, int64_t n, int64_t itemsize);

/// Writes into `dst` (row-major, shape reversed(src_shape)) the transpose of `src` (row-major,
/// shape `src_shape`) with all axes reversed: a Fortran-order region read as row-major.
void ReverseAxes(const void* src, const engine::Shape& src_shape, int64_t itemsize, void* dst);

}  // namespace nums::io
