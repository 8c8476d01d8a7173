#include "io/zarr_codec.h"

#include <blosc.h>
#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

#include <climits>
#include <cstring>

#include "nums/errors.hpp"

namespace nums::io {
namespace {

std::string Num(int64_t v) { return std::to_string(v); }

// zlib's streams count in uInt: feed and drain them in pieces so chunks over 4 GiB work.
constexpr int64_t kZlibStep = int64_t{1} << 30;

std::string Deflate(const void* data, int64_t n, int64_t level, bool gzip) {
  z_stream s{};
  if (deflateInit2(&s, static_cast<int>(level), Z_DEFLATED, gzip ? 15 + 16 : 15, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw IOError("zlib: cannot start compression at level " + Num(level));
  }
  std::string out;
  const auto* in = static_cast<const Bytef*>(data);
  int64_t consumed = 0;
  int rc = Z_OK;
  std::string buf(static_cast<size_t>(std::min<int64_t>(kZlibStep, deflateBound(&s, 1 << 20) + n)),
                  '\0');
  while (rc != Z_STREAM_END) {
    if (s.avail_in == 0 && consumed < n) {
      const int64_t step = std::min(kZlibStep, n - consumed);
      s.next_in = const_cast<Bytef*>(in + consumed);
      s.avail_in = static_cast<uInt>(step);
      consumed += step;
    }
    s.next_out = reinterpret_cast<Bytef*>(buf.data());
    s.avail_out = static_cast<uInt>(buf.size());
    rc = deflate(&s, consumed == n ? Z_FINISH : Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      deflateEnd(&s);
      throw IOError("zlib: compression failed (" + Num(rc) + ")");
    }
    out.append(buf.data(), buf.size() - s.avail_out);
  }
  deflateEnd(&s);
  return out;
}

void Inflate(const std::string& in, void* out, int64_t n, bool gzip) {
  z_stream s{};
  // 15 + 32: zlib or gzip header, detected; numcodecs' GZip and Zlib each write their own.
  if (inflateInit2(&s, gzip ? 15 + 32 : 15) != Z_OK) throw IOError("zlib: cannot start");
  auto* dst = static_cast<Bytef*>(out);
  const auto* src = reinterpret_cast<const Bytef*>(in.data());
  const int64_t in_n = static_cast<int64_t>(in.size());
  int64_t fed = 0, produced = 0;
  int rc = Z_OK;
  unsigned char spill[1];  // room to notice data beyond `n`
  while (true) {
    if (s.avail_in == 0 && fed < in_n) {
      const int64_t step = std::min(kZlibStep, in_n - fed);
      s.next_in = const_cast<Bytef*>(src + fed);
      s.avail_in = static_cast<uInt>(step);
      fed += step;
    }
    const bool full = produced == n;
    s.next_out = full ? spill : dst + produced;
    const int64_t room = full ? 1 : std::min(kZlibStep, n - produced);
    s.avail_out = static_cast<uInt>(room);
    rc = inflate(&s, Z_NO_FLUSH);
    const int64_t got = room - s.avail_out;
    if (full && got > 0) {
      inflateEnd(&s);
      throw IOError("decompresses to more than the chunk's " + Num(n) + " bytes");
    }
    produced += got;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR) {
      const std::string msg = s.msg ? s.msg : "error " + Num(rc);
      inflateEnd(&s);
      throw IOError(std::string(gzip ? "gzip" : "zlib") + " data is corrupt (" + msg + ")");
    }
    if (rc == Z_BUF_ERROR && s.avail_in == 0 && fed == in_n) {
      inflateEnd(&s);
      throw IOError(std::string(gzip ? "gzip" : "zlib") + " data is truncated after " +
                    Num(produced) + " of " + Num(n) + " bytes");
    }
  }
  inflateEnd(&s);
  if (produced != n) {
    throw IOError("decompresses to " + Num(produced) + " bytes, the chunk has " + Num(n));
  }
}

void CheckIntSize(const char* what, int64_t n) {
  if (n > INT_MAX - 64) {
    throw IOError(std::string(what) + " cannot hold a chunk of " + Num(n) +
                  " bytes (2 GiB at most): choose smaller chunks");
  }
}

}  // namespace

ZarrCodec DefaultZarrCodec(const std::string& id) {
  if (id.empty() || id == "none") return {};
  if (id == "zlib" || id == "gzip" || id == "zstd" || id == "lz4") return {id, 1, "", 0, 0};
  if (id == "blosc") return {"blosc", 5, "lz4", 1, 0};
  throw ValueError("unknown zarr compressor '" + id +
                   "' (\"\", \"zlib\", \"gzip\", \"lz4\", \"zstd\" or \"blosc\")");
}

void CheckZarrCodec(const ZarrCodec& c) {
  auto range = [&](const char* what, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi) {
      throw ValueError("zarr compressor '" + c.id + "': " + what + " " + Num(v) + " is not in [" +
                       Num(lo) + ", " + Num(hi) + "]");
    }
  };
  if (c.id.empty()) return;
  if (c.id == "zlib" || c.id == "gzip") return range("level", c.level, 0, 9);
  if (c.id == "zstd") return range("level", c.level, ZSTD_minCLevel(), ZSTD_maxCLevel());
  if (c.id == "lz4") return range("acceleration", c.level, 1, 65537);
  if (c.id == "blosc") {
    range("clevel", c.level, 0, 9);
    range("shuffle", c.shuffle, -1, 2);
    range("blocksize", c.blocksize, 0, INT_MAX);
    if (blosc_compname_to_compcode(c.cname.c_str()) < 0) {
      throw ValueError("zarr compressor 'blosc': cname '" + c.cname + "' is not available (" +
                       blosc_list_compressors() + ")");
    }
    return;
  }
  DefaultZarrCodec(c.id);  // throws naming the id
}

std::string EncodeChunk(const ZarrCodec& c, const void* data, int64_t n, int64_t itemsize) {
  if (c.id.empty()) return std::string(static_cast<const char*>(data), static_cast<size_t>(n));
  if (c.id == "zlib" || c.id == "gzip") return Deflate(data, n, c.level, c.id == "gzip");
  if (c.id == "zstd") {
    std::string out(ZSTD_compressBound(static_cast<size_t>(n)), '\0');
    const size_t r = ZSTD_compress(out.data(), out.size(), data, static_cast<size_t>(n),
                                   static_cast<int>(c.level));
    if (ZSTD_isError(r)) throw IOError(std::string("zstd: ") + ZSTD_getErrorName(r));
    out.resize(r);
    return out;
  }
  if (c.id == "lz4") {
    CheckIntSize("lz4", n);
    const int bound = LZ4_compressBound(static_cast<int>(n));
    std::string out(static_cast<size_t>(bound) + 4, '\0');
    const auto size = static_cast<uint32_t>(n);
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((size >> (8 * i)) & 0xff);
    const int r = LZ4_compress_fast(static_cast<const char*>(data), out.data() + 4,
                                    static_cast<int>(n), bound, static_cast<int>(c.level));
    if (r <= 0 && n > 0) throw IOError("lz4: compression failed");
    out.resize(static_cast<size_t>(r) + 4);
    return out;
  }
  if (c.id == "blosc") {
    CheckIntSize("blosc", n);
    int shuffle = static_cast<int>(c.shuffle);
    if (shuffle < 0) shuffle = itemsize == 1 ? BLOSC_BITSHUFFLE : BLOSC_SHUFFLE;
    std::string out(static_cast<size_t>(n) + BLOSC_MAX_OVERHEAD, '\0');
    const int r = blosc_compress_ctx(
        static_cast<int>(c.level), shuffle, static_cast<size_t>(itemsize), static_cast<size_t>(n),
        data, out.data(), out.size(), c.cname.c_str(), static_cast<size_t>(c.blocksize), 1);
    if (r <= 0) throw IOError("blosc: compression failed (" + Num(r) + ")");
    out.resize(static_cast<size_t>(r));
    return out;
  }
  DefaultZarrCodec(c.id);
  return {};
}

void DecodeChunk(const ZarrCodec& c, const std::string& in, void* out, int64_t n) {
  const int64_t size = static_cast<int64_t>(in.size());
  if (c.id.empty()) {
    if (size != n) {
      throw IOError("holds " + Num(size) + " bytes, the uncompressed chunk has " + Num(n));
    }
    std::memcpy(out, in.data(), in.size());
    return;
  }
  if (c.id == "zlib" || c.id == "gzip") return Inflate(in, out, n, c.id == "gzip");
  if (c.id == "zstd") {
    const unsigned long long content = ZSTD_getFrameContentSize(in.data(), in.size());
    if (content == ZSTD_CONTENTSIZE_ERROR) throw IOError("zstd data is corrupt (not a frame)");
    if (content != ZSTD_CONTENTSIZE_UNKNOWN && content != static_cast<unsigned long long>(n)) {
      throw IOError("decompresses to " + std::to_string(content) + " bytes, the chunk has " +
                    Num(n));
    }
    const size_t r = ZSTD_decompress(out, static_cast<size_t>(n), in.data(), in.size());
    if (ZSTD_isError(r)) {
      throw IOError(std::string("zstd data is corrupt (") + ZSTD_getErrorName(r) + ")");
    }
    if (static_cast<int64_t>(r) != n) {
      throw IOError("decompresses to " + Num(static_cast<int64_t>(r)) + " bytes, the chunk has " +
                    Num(n));
    }
    return;
  }
  if (c.id == "lz4") {
    if (size < 4) throw IOError("lz4 data is corrupt (" + Num(size) + " bytes, no size header)");
    uint32_t stated = 0;
    for (int i = 0; i < 4; ++i) stated |= uint32_t{static_cast<uint8_t>(in[i])} << (8 * i);
    if (stated != static_cast<uint64_t>(n)) {
      throw IOError("decompresses to " + Num(stated) + " bytes (its header), the chunk has " +
                    Num(n));
    }
    CheckIntSize("lz4", n);
    const int r = LZ4_decompress_safe(in.data() + 4, static_cast<char*>(out),
                                      static_cast<int>(size - 4), static_cast<int>(n));
    if (r < 0) throw IOError("lz4 data is corrupt");
    if (r != n) {
      throw IOError("decompresses to " + Num(r) + " bytes, the chunk has " + Num(n));
    }
    return;
  }
  if (c.id == "blosc") {
    size_t nbytes = 0;
    if (size < BLOSC_MIN_HEADER_LENGTH ||
        blosc_cbuffer_validate(in.data(), in.size(), &nbytes) != 0) {
      throw IOError("blosc data is corrupt (bad header)");
    }
    if (static_cast<int64_t>(nbytes) != n) {
      throw IOError("decompresses to " + Num(static_cast<int64_t>(nbytes)) +
                    " bytes (its header), the chunk has " + Num(n));
    }
    const int r = blosc_decompress_ctx(in.data(), out, static_cast<size_t>(n), 1);
    if (r < 0) throw IOError("blosc data is corrupt (" + Num(r) + ")");
    if (r != n) throw IOError("decompresses to " + Num(r) + " bytes, the chunk has " + Num(n));
    return;
  }
  throw IOError("unknown compressor '" + c.id + "'");
}

}  // namespace nums::io
