#pragma once
// NEP 1 `.npy` headers: parsing (versions 1.0, 2.0, 3.0) and writing. Pure: bytes in, bytes out.

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/block.h"
#include "nums/dtype.hpp"

namespace nums::io {

struct NpyHeader {
  DType dtype = DType::kFloat64;
  bool big_endian = false;  ///< elements need a byte swap on this (little-endian) machine
  bool fortran_order = false;
  engine::Shape shape;
  int64_t data_offset = 0;  ///< where the elements start: magic + length field + header
};

/// The magic string and version bytes take 8 bytes; the length field 2 (1.0) or 4 (2.0, 3.0).
inline constexpr int64_t kNpyPreludeBytes = 12;

/// Bytes needed to know the header's full length (at most kNpyPreludeBytes); `prelude` is the
/// start of the file. Throws IOError naming `file` for a file that is not `.npy`.
int64_t NpyHeaderLength(std::string_view prelude, const std::string& file);

/// Parses a whole header (`bytes` from the start of the file through the header's newline).
/// Throws IOError naming `file` for a malformed header, DTypeError naming the descr for a dtype
/// nums does not have, ValueError for a negative dimension.
NpyHeader ParseNpyHeader(std::string_view bytes, const std::string& file);

/// The header (magic, version, length, dict padded to a multiple of 64 bytes) for a C-order,
/// little-endian array; version 1.0 unless the dict needs 2.0's 4-byte length.
std::string FormatNpyHeader(DType dtype, const engine::Shape& shape);

/// NumPy's descr of a dtype: "<f8", "<f4", "<i8", "<i4", "|b1".
std::string NpyDescr(DType dtype);

}  // namespace nums::io
