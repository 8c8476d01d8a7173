#pragma once
// The compressors of zarr v2 chunks, byte-compatible with numcodecs: none, zlib, gzip, lz4
// (numcodecs' framing: a 4-byte little-endian size, then one LZ4 block), zstd and blosc.

#include <cstdint>
#include <string>

namespace nums::io {

/// A chunk compressor as `.zarray`'s "compressor" describes it.
struct ZarrCodec {
  /// "" (none), "zlib", "gzip", "lz4", "zstd" or "blosc".
  std::string id;
  /// zlib/gzip level (0-9), zstd level (-131072..22), lz4 acceleration (>= 1), blosc clevel (0-9).
  int64_t level = 0;
  std::string cname;      ///< blosc only: "lz4", "lz4hc", "blosclz", "zlib", "zstd"
  int64_t shuffle = 0;    ///< blosc only: 0 none, 1 byte, 2 bit, -1 auto (bit for 1-byte items)
  int64_t blocksize = 0;  ///< blosc only: 0 automatic
};

/// numcodecs' default settings of compressor `id` (zlib and gzip level 1, zstd level 1, lz4
/// acceleration 1, blosc lz4 clevel 5 byte shuffle); ValueError for an unknown id.
ZarrCodec DefaultZarrCodec(const std::string& id);

/// ValueError naming the setting when `codec` cannot be used to write (a level out of range, a
/// blosc compressor this libblosc lacks).
void CheckZarrCodec(const ZarrCodec& codec);

/// `n` bytes of items of `itemsize` bytes, compressed. IOError for data a format cannot hold
/// (over 2 GiB for lz4 and blosc).
std::string EncodeChunk(const ZarrCodec& codec, const void* data, int64_t n, int64_t itemsize);

/// Decompresses `in` into exactly `n` bytes at `out`. IOError saying what is wrong when the data
/// is corrupt or decompresses to another size (without the chunk's name: the caller adds it).
void DecodeChunk(const ZarrCodec& codec, const std::string& in, void* out, int64_t n);

}  // namespace nums::io
