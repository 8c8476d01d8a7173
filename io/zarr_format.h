#pragma once
// zarr v2 array metadata (`.zarray`): what nums reads and writes of it, and chunk keys.

#include <cstdint>
#include <string>

#include "engine/block.h"
#include "io/zarr_codec.h"

namespace nums::io {

/// A zarr v2 array's `.zarray`.
struct ZarrMeta {
  engine::Shape shape;
  engine::Shape chunks;  ///< >= 1 each; same rank as shape
  DType dtype = DType::kFloat64;
  bool big_endian = false;  ///< chunk bytes in big-endian order (">f8")
  bool fortran = false;     ///< "order": "F": each chunk holds its elements column-major
  /// One element of `dtype` in this machine's byte order: the value of missing chunks (and of
  /// the padding of edge chunks nums writes). JSON null reads as zero.
  std::string fill;
  ZarrCodec codec;       ///< id "" for "compressor": null
  char separator = '.';  ///< "dimension_separator": '.' or '/'

  /// Bytes of one (full) chunk, uncompressed.
  int64_t ChunkBytes() const;
};

/// Parses the text of `store`'s `.zarray`. Throws IOError naming the store for bad JSON, a
/// zarr_format other than 2, missing or bad keys, filters, or an unknown compressor; DTypeError
/// naming the store and the dtype for a dtype other than <f8 <f4 <i8 <i4 |b1 (either byte order).
ZarrMeta ParseZarray(const std::string& text, const std::string& store);

/// The `.zarray` text of `meta` (little endian dtype; the format zarr-python writes).
std::string FormatZarray(const ZarrMeta& meta);

/// The JSON value of a fill value for `dtype` ("NaN", "Infinity", numbers, bools) from a double;
/// ValueError when `value` does not fit `dtype` (a fraction for an integer type, 2 for bool).
/// Returns the element bytes (native order) in `fill`.
std::string FillBytes(DType dtype, double value);

/// The key of chunk `index` ("1.0.2", "1/0/2", and "0" for a 0-d array).
std::string ChunkKey(const engine::Shape& index, char separator);

}  // namespace nums::io
