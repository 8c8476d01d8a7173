// Block reads and writes of zarr v2 arrays: whole chunks through the storage byte API,
// decompressed or compressed on the node that owns the block.

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "io/file_util.h"
#include "io/kernels.h"
#include "io/region.h"
#include "io/storage.h"
#include "io/zarr_codec.h"
#include "io/zarr_format.h"

namespace nums::io {
namespace {

using engine::Block;
using engine::KernelContext;
using engine::Shape;

Shape Reversed(const Shape& s) { return Shape(s.rbegin(), s.rend()); }

// Decodes `bytes` (one stored chunk) into `chunk` as a C-order array of meta.chunks in this
// machine's byte order.
void DecodeToCOrder(const ZarrMeta& meta, const std::string& bytes, std::vector<uint8_t>& chunk,
                    std::vector<uint8_t>& scratch) {
  const int64_t item = itemsize(meta.dtype);
  const int64_t n = meta.ChunkBytes();
  const bool transpose = meta.fortran && meta.chunks.size() > 1;
  uint8_t* dst = chunk.data();
  if (transpose) {
    scratch.resize(static_cast<size_t>(n));
    dst = scratch.data();
  }
  DecodeChunk(meta.codec, bytes, dst, n);
  if (meta.big_endian) ByteSwap(dst, n / item, item);
  // An F-order chunk is the C-order array of the reversed chunk shape.
  if (transpose) ReverseAxes(dst, Reversed(meta.chunks), item, chunk.data());
}

// Scalars: store, the .zarray text, the block's offset and shape in the array, its grid entry
// (for messages), and optionally the identity (FileIdentity) of a local store's .zarray to
// check: a store replaced since it was opened fails instead of giving other data. Output: the
// block in C order. Chunks that do not exist read as fill_value.
std::vector<Block> ReadZarrBlock(const KernelContext& k) {
  const auto& store = k.scalar<std::string>(0);
  const ZarrMeta meta = ParseZarray(k.scalar<std::string>(1), store);
  const auto& offset = k.scalar<std::vector<int64_t>>(2);
  const auto& count = k.scalar<std::vector<int64_t>>(3);
  const auto& entry = k.scalar<std::vector<int64_t>>(4);
  const int64_t item = itemsize(meta.dtype);
  const size_t nd = count.size();
  if (k.scalars.size() > 5 && !k.scalar<std::vector<int64_t>>(5).empty()) {
    const std::string zarray = JoinPath(store, ".zarray");
    CheckFileIdentity(OpenFile(zarray, O_RDONLY).get(), k.scalar<std::vector<int64_t>>(5), zarray);
  }

  Block out = Block::Allocate(meta.dtype, count);
  auto* dst = static_cast<uint8_t*>(out.raw());
  if (out.size() == 0) return {out};
  // The chunks overlapping the block: [first, last] along each axis, visited row-major.
  Shape first(nd), last(nd);
  for (size_t d = 0; d < nd; ++d) {
    first[d] = offset[d] / meta.chunks[d];
    last[d] = (offset[d] + count[d] - 1) / meta.chunks[d];
  }
  Shape index = first;
  std::vector<uint8_t> chunk, scratch;  // sized on first use: the raw path needs neither
  // An uncompressed little-endian C-order chunk of a local store is the chunk's array as it is in
  // memory: its runs are read straight into the block, as from an .npy file.
  const bool raw = meta.codec.id.empty() && !meta.big_endian &&
                   !(meta.fortran && meta.chunks.size() > 1) && !IsS3Url(store);
  for (bool more = true; more;) {
    // The overlap of chunk `index` and the block, in both's coordinates.
    Shape in_chunk(nd), in_block(nd), overlap(nd);
    for (size_t d = 0; d < nd; ++d) {
      const int64_t lo = std::max(offset[d], index[d] * meta.chunks[d]);
      const int64_t hi = std::min(offset[d] + count[d], (index[d] + 1) * meta.chunks[d]);
      in_chunk[d] = lo - index[d] * meta.chunks[d];
      in_block[d] = lo - offset[d];
      overlap[d] = hi - lo;
    }
    const std::string key = ChunkKey(index, meta.separator);
    std::optional<std::string> bytes;
    bool copied = false;  // the overlap is in the block already
    try {
      const std::string path = JoinPath(store, key);
      if (raw) {
        const std::optional<int64_t> size = ObjectSize(path);
        if (size) {
          if (*size != meta.ChunkBytes()) {
            throw IOError("an uncompressed chunk of " + std::to_string(meta.ChunkBytes()) +
                          " bytes has " + std::to_string(*size));
          }
          const RangeReader reader(path, std::monostate{});
          ForEachRunBetween(meta.chunks, in_chunk, count, in_block, overlap,
                            [&](int64_t src, int64_t to, int64_t n) {
                              reader.Read(dst + to * item, n * item, src * item);
                            });
          copied = true;
        }
      } else {
        bytes = ReadObjectIfExists(path);
        if (bytes && overlap == meta.chunks && overlap == count &&
            !(meta.fortran && meta.chunks.size() > 1)) {
          // The block is exactly this chunk (the default blocking): decoded in place.
          DecodeChunk(meta.codec, *bytes, dst, meta.ChunkBytes());
          if (meta.big_endian) ByteSwap(dst, out.size(), item);
          copied = true;
        } else if (bytes) {
          chunk.resize(static_cast<size_t>(meta.ChunkBytes()));
          DecodeToCOrder(meta, *bytes, chunk, scratch);
        }
      }
    } catch (const IOError& e) {
      throw IOError("zarr store '" + store + "': chunk '" + key + "' (read for block " +
                    engine::ShapeToString(entry) + "): " + e.what());
    }
    if (!copied) {
      ForEachRunBetween(
          meta.chunks, in_chunk, count, in_block, overlap, [&](int64_t src, int64_t to, int64_t n) {
            if (bytes) {
              std::memcpy(dst + to * item, chunk.data() + src * item,
                          static_cast<size_t>(n * item));
            } else {
              for (int64_t i = 0; i < n; ++i) {
                std::memcpy(dst + (to + i) * item, meta.fill.data(), static_cast<size_t>(item));
              }
            }
          });
    }
    more = false;  // the next index, or done after the last (and after the one chunk of 0-d)
    for (size_t d = nd; d-- > 0;) {
      if (++index[d] <= last[d]) {
        more = true;
        break;
      }
      index[d] = first[d];
    }
  }
  return {out};
}

// Input: the block that is chunk `index` of the array (its part inside the array). Scalars:
// where chunks go (a directory or S3 prefix), the .zarray text, the chunk index, the store
// (for messages). Writes the chunk full size, padded with fill_value as zarr pads edge chunks.
// Output: a 0-d int64 acknowledgement holding the bytes written.
std::vector<Block> WriteZarrBlock(const KernelContext& k) {
  const auto& dir = k.scalar<std::string>(0);
  const auto& store = k.scalar<std::string>(3);
  const ZarrMeta meta = ParseZarray(k.scalar<std::string>(1), store);
  const auto& index = k.scalar<std::vector<int64_t>>(2);
  if (k.inputs.size() != 1) throw ValueError("io.zarr.write takes one block");
  const Block& in = k.inputs[0];
  const size_t nd = meta.shape.size();
  Shape extent(nd);
  for (size_t d = 0; d < nd && index.size() == nd; ++d) {
    extent[d] = std::min(meta.chunks[d], meta.shape[d] - index[d] * meta.chunks[d]);
  }
  if (in.dtype() != meta.dtype || index.size() != nd || in.shape() != extent) {
    throw ValueError("io.zarr.write: block of " + std::string(dtype_name(in.dtype())) + " " +
                     engine::ShapeToString(in.shape()) + " is not chunk " +
                     engine::ShapeToString(index) + " (" + engine::ShapeToString(extent) +
                     ") of the " + std::string(dtype_name(meta.dtype)) + " array written to '" +
                     store + "'");
  }
  const int64_t item = itemsize(meta.dtype);
  const int64_t n = meta.ChunkBytes();
  std::vector<uint8_t> chunk(static_cast<size_t>(n));
  if (in.shape() != meta.chunks) {
    for (int64_t i = 0; i < n; i += item) std::memcpy(&chunk[i], meta.fill.data(), item);
  }
  const auto* src = static_cast<const uint8_t*>(in.raw());
  ForEachRunBetween(in.shape(), Shape(nd, 0), meta.chunks, Shape(nd, 0), in.shape(),
                    [&](int64_t from, int64_t to, int64_t m) {
                      std::memcpy(&chunk[to * item], src + from * item,
                                  static_cast<size_t>(m * item));
                    });
  if (meta.fortran && nd > 1) {
    std::vector<uint8_t> c_order = std::move(chunk);
    chunk.assign(static_cast<size_t>(n), 0);
    ReverseAxes(c_order.data(), meta.chunks, item, chunk.data());
  }
  const std::string key = ChunkKey(index, meta.separator);
  try {
    const std::string bytes = EncodeChunk(meta.codec, chunk.data(), n, item);
    WriteObject(JoinPath(dir, key), bytes.data(), static_cast<int64_t>(bytes.size()));
  } catch (const IOError& e) {
    throw IOError("zarr store '" + store + "': writing chunk '" + key + "': " + e.what());
  }
  Block ack = Block::Allocate(DType::kInt64, {});
  *ack.data<int64_t>() = in.nbytes();
  return {ack};
}

}  // namespace

void RegisterZarrKernels(engine::KernelRegistry& registry) {
  registry.Register("io.zarr.read", engine::Device::kCpu, ReadZarrBlock);
  registry.Register("io.zarr.write", engine::Device::kCpu, WriteZarrBlock);
}

}  // namespace nums::io
