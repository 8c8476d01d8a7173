// io::read_zarr / io::write_zarr: the driver handles `.zarray` and `.zattrs`; nodes read and
// write the chunks of their blocks.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "io/file_util.h"
#include "io/storage.h"
#include "io/write_commit.h"
#include "io/zarr_format.h"
#include "nums/io.hpp"
#include "src/array_impl.h"
#include "src/checked.h"

namespace nums::io {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Chunks of this many bytes or more are one block each; smaller ones are grouped.
constexpr int64_t kMinChunkBlockBytes = int64_t{1} << 20;
// Chunks larger than this give the default rule's blocks (a block reads parts of chunks).
constexpr int64_t kMaxChunkBlockBytes = int64_t{256} << 20;

// A local store's path without trailing slashes (its temporary directory goes beside it).
std::string NormalizeStore(const std::string& store, const char* op) {
  if (store.empty()) throw ValueError(std::string(op) + ": the store path is empty");
  std::string s = store;
  if (!IsS3Url(s)) {
    while (s.size() > 1 && s.back() == '/') s.pop_back();
  }
  return s;
}

// The .zarray text of `store`; IOError naming the store when it or its .zarray is missing.
std::string ReadZarray(const std::string& store) {
  std::optional<std::string> text = ReadObjectIfExists(JoinPath(store, ".zarray"));
  if (text) return std::move(*text);
  if (!IsS3Url(store) && !fs::exists(store)) {
    throw IOError("zarr store '" + store + "' does not exist");
  }
  throw IOError("zarr store '" + store + "' has no .zarray (it is not a zarr v2 array)");
}

Shape ZarrBlockShape(const Context::Impl& ctx, const ZarrMeta& m, const Shape& requested) {
  if (!requested.empty() || m.shape.empty() || shape_size(m.shape) == 0) {
    return detail::choose_block_shape(ctx, m.shape, m.dtype, requested);
  }
  const size_t nd = m.shape.size();
  Shape chunk(nd);
  for (size_t d = 0; d < nd; ++d) chunk[d] = std::min(m.chunks[d], m.shape[d]);
  const Shape rule = default_block_shape(m.shape, m.dtype, ctx.cores);
  const int64_t bytes = shape_size(chunk) * itemsize(m.dtype);
  if (bytes > kMaxChunkBlockBytes) return rule;
  if (bytes >= kMinChunkBlockBytes) return chunk;
  Shape block(nd);  // whole chunks, as many as the default rule's block holds along each axis
  for (size_t d = 0; d < nd; ++d) {
    block[d] = std::min(m.shape[d], chunk[d] * std::max<int64_t>(1, rule[d] / chunk[d]));
  }
  return block;
}

std::string AttributesJson(const Attributes& attributes) {
  json j = json::object();
  for (const auto& [name, value] : attributes) {
    auto finite = [&](double v) {
      if (!std::isfinite(v)) {
        throw ValueError("write_zarr: attribute '" + name + "' holds " + std::to_string(v) +
                         ", which JSON cannot hold");
      }
      return v;
    };
    if (const auto* d = std::get_if<double>(&value)) {
      j[name] = finite(*d);
    } else if (const auto* i = std::get_if<int64_t>(&value)) {
      j[name] = *i;
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      j[name] = *s;
    } else {
      json list = json::array();
      for (double v : std::get<std::vector<double>>(value)) list.push_back(finite(v));
      j[name] = list;
    }
  }
  return j.dump(4) + "\n";
}

}  // namespace

BlockArray read_zarr(const Context& context, const std::string& store_path,
                     const ZarrReadOptions& options) {
  std::shared_ptr<Context::Impl> ctx = context.impl();
  const std::string store = NormalizeStore(store_path, "read_zarr");
  const std::string zarray = ReadZarray(store);
  // A local store's version: write_zarr swaps in a new directory, so a new .zarray file. Read
  // again after taking it, so that the text and the identity are of the same version.
  std::vector<int64_t> identity;
  if (!IsS3Url(store)) {
    const std::string path = JoinPath(store, ".zarray");
    identity = FileIdentity(path);
    if (ReadObject(path) != zarray) {
      throw IOError("zarr store '" + store + "' changed while it was being opened");
    }
  }
  const ZarrMeta meta = ParseZarray(zarray, store);
  detail::check_shape(meta.shape, meta.dtype, "read_zarr");
  ArrayGrid grid(meta.shape, ZarrBlockShape(*ctx, meta, options.block_shape), meta.dtype);
  // Decompressed chunk, its transpose for F order, and the compressed bytes (about as many).
  const int64_t scratch = meta.ChunkBytes() * (meta.fortran && meta.shape.size() > 1 ? 3 : 2);
  std::vector<engine::ObjectRef> blocks;
  blocks.reserve(static_cast<size_t>(grid.num_blocks()));
  engine::SubmitBatch batch(*ctx->runtime);
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const Shape bs = grid.block_shape_at(e);
    engine::TaskSpec spec;
    spec.kernel = "io.zarr.read";
    spec.node = detail::home_node(*ctx, grid, e);
    spec.args = {engine::Scalar{store},
                 engine::Scalar{zarray},
                 detail::shape_scalar(grid.block_offset(e)),
                 detail::shape_scalar(bs),
                 detail::shape_scalar(e),
                 engine::Scalar{identity}};
    spec.name = "io.zarr.read '" + store + "' block " + shape_str(e);
    spec.outputs = {engine::OutputSpec{meta.dtype, bs}};
    spec.scratch_bytes = shape_size(bs) == 0 ? 0 : scratch;
    // Reading again gives the same block, or fails, when the store was replaced (checked).
    spec.io = true;
    spec.recomputable = true;
    blocks.push_back(ctx->runtime->Submit(std::move(spec))[0]);
  });
  batch.Send();
  return detail::make_array(std::move(ctx), std::move(grid), std::move(blocks));
}

Attributes read_zarr_attributes(const std::string& store_path) {
  const std::string store = NormalizeStore(store_path, "read_zarr_attributes");
  std::optional<std::string> text = ReadObjectIfExists(JoinPath(store, ".zattrs"));
  if (!text) {
    ReadZarray(store);  // IOError when the store is missing too
    return {};
  }
  json j;
  try {
    j = json::parse(*text);
  } catch (const json::exception& e) {
    throw IOError("zarr store '" + store + "': .zattrs is not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw IOError("zarr store '" + store + "': .zattrs is not a JSON object");
  Attributes out;
  for (const auto& [name, v] : j.items()) {
    if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX)) {
      out[name] = v.get<int64_t>();
    } else if (v.is_number()) {
      out[name] = v.get<double>();
    } else if (v.is_string()) {
      out[name] = v.get<std::string>();
    } else if (v.is_array() &&
               std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_number(); })) {
      out[name] = v.get<std::vector<double>>();
    } else {
      throw DTypeError("zarr store '" + store + "': attribute '" + name + "' is " + v.dump() +
                       " (nums reads numbers, strings and lists of numbers)");
    }
  }
  return out;
}

void write_zarr(const BlockArray& x, const std::string& store_path,
                const ZarrWriteOptions& options) {
  const auto& impl = ArrayOf(x, "write_zarr");
  const std::string store = NormalizeStore(store_path, "write_zarr");
  const ArrayGrid& grid = impl.grid;
  const Shape& shape = grid.shape();
  const size_t nd = shape.size();

  // Check everything before anything is written.
  ZarrMeta meta;
  meta.shape = shape;
  meta.dtype = grid.dtype();
  if (options.order != 'C' && options.order != 'F') {
    throw ValueError(std::string("write_zarr: order '") + options.order + "' is not 'C' or 'F'");
  }
  meta.fortran = options.order == 'F';
  if (options.dimension_separator != '.' && options.dimension_separator != '/') {
    throw ValueError(std::string("write_zarr: dimension_separator '") +
                     options.dimension_separator + "' is not '.' or '/'");
  }
  meta.separator = options.dimension_separator;
  meta.codec = DefaultZarrCodec(options.compressor);
  if (meta.codec.id == "blosc") {
    meta.codec.cname = options.blosc_cname;
    meta.codec.shuffle = options.blosc_shuffle;
  }
  if (options.level) meta.codec.level = *options.level;
  CheckZarrCodec(meta.codec);
  meta.fill = FillBytes(meta.dtype, options.fill_value.value_or(0.0));
  if (options.chunks.empty()) {
    meta.chunks = grid.block_shape();
    for (int64_t& c : meta.chunks) c = std::max<int64_t>(c, 1);
  } else {
    if (options.chunks.size() != nd) {
      throw ShapeError("write_zarr: chunks " + shape_str(options.chunks) +
                       " do not match the rank of shape " + shape_str(shape));
    }
    for (int64_t c : options.chunks) {
      if (c < 1) {
        throw ValueError("write_zarr: chunks " + shape_str(options.chunks) + " must be >= 1");
      }
    }
    meta.chunks = options.chunks;
  }
  detail::check_shape(meta.chunks, meta.dtype, "write_zarr chunks");
  const std::string zarray = FormatZarray(meta);
  const std::string zattrs = AttributesJson(options.attributes);

  // Where the chunks go and how the store becomes visible: metadata last either way.
  auto write_metadata = [zarray, zattrs](const std::string& where) {
    WriteObject(JoinPath(where, ".zattrs"), zattrs.data(), static_cast<int64_t>(zattrs.size()));
    WriteObject(JoinPath(where, ".zarray"), zarray.data(), static_cast<int64_t>(zarray.size()));
  };
  std::string dir;
  WriteEnd commit;
  if (IsS3Url(store)) {
    // No rename on S3: chunks go in place under a prefix that no longer has a .zarray, so it
    // does not look complete until the new metadata is written.
    dir = store;
    RemoveObject(JoinPath(store, ".zarray"));
    commit = {[=](const std::vector<engine::Block>&) { write_metadata(store); }, [] {}};
  } else {
    dir = TempPathFor(store);
    std::error_code ec;
    if (!fs::create_directory(dir, ec)) {
      throw IOError("cannot create '" + dir + "' for zarr store '" + store +
                    "': " + (ec ? ec.message() : "it exists"));
    }
    commit = {[=](const std::vector<engine::Block>&) {
                write_metadata(dir);
                CommitTempDirectory(dir, store);
              },
              [dir] { RemoveTreeQuietly(dir); }};
  }

  if (shape_size(shape) == 0) {  // no chunks: metadata only
    try {
      commit.commit({});
    } catch (...) {
      commit.abort();
      throw;
    }
    return;
  }
  // Each block becomes exactly one chunk.
  Shape block(nd);
  for (size_t d = 0; d < nd; ++d) block[d] = std::min(meta.chunks[d], shape[d]);
  BlockArray y = x;
  try {
    if (grid.block_shape() != block) y = x.rechunk(block);
  } catch (...) {
    commit.abort();
    throw;
  }
  const int64_t scratch = meta.ChunkBytes() * 3;  // the chunk, its transpose, its compressed form
  WriteBlocks(
      *impl.ctx, *y.impl(),
      [&](const Shape& e, const engine::ObjectRef& ref) {
        engine::TaskSpec spec;
        spec.kernel = "io.zarr.write";
        spec.args = {ref, engine::Scalar{dir}, engine::Scalar{zarray}, detail::shape_scalar(e),
                     engine::Scalar{store}};
        spec.name = "io.zarr.write '" + store + "' chunk " + ChunkKey(e, '.');
        spec.scratch_bytes = scratch;
        return spec;
      },
      commit);
}

}  // namespace nums::io
