// io::save / io::load: the driver handles the header; nodes read and write the blocks. A path
// is a local file or an s3:// object (ranged GETs; a multipart upload with a part per row block).

#include <fcntl.h>

#include <string>

#include "io/file_util.h"
#include "io/npy_format.h"
#include "io/s3.h"
#include "io/s3_parts.h"
#include "io/storage.h"
#include "io/write_commit.h"
#include "nums/io.hpp"
#include "src/array_impl.h"
#include "src/checked.h"

namespace nums::io {
namespace {

void SaveLocal(const BlockArray::Impl& impl, const std::string& path) {
  Context::Impl& ctx = *impl.ctx;
  const ArrayGrid& grid = impl.grid;
  const std::string header = FormatNpyHeader(grid.dtype(), grid.shape());
  const int64_t data_offset = static_cast<int64_t>(header.size());
  const int64_t total = data_offset + shape_size(grid.shape()) * itemsize(grid.dtype());

  // Begin: the temporary file at its full size, header first, so each node only fills its part.
  const std::string temp = TempPathFor(path);
  try {
    FileDescriptor fd = OpenFile(temp, O_WRONLY | O_CREAT | O_EXCL);
    PwriteFully(fd.get(), header.data(), data_offset, 0, temp);
    if (::ftruncate(fd.get(), total) != 0) {
      throw IOError("cannot size '" + temp + "' to " + std::to_string(total) + " bytes for '" +
                    path + "': " + ErrnoText());
    }
    fd.Close(temp);
  } catch (const IOError&) {
    RemoveQuietly(temp);
    throw;
  }

  WriteBlocks(
      ctx, impl,
      [&](const Shape& e, const engine::ObjectRef& block) {
        engine::TaskSpec spec;
        spec.kernel = "io.npy.write";
        spec.args = {block,
                     engine::Scalar{temp},
                     detail::int_scalar(data_offset),
                     detail::shape_scalar(grid.shape()),
                     detail::shape_scalar(grid.block_offset(e)),
                     detail::int_scalar(static_cast<int64_t>(grid.dtype()))};
        spec.name = "io.npy.write '" + path + "' block " + shape_str(e);
        return spec;
      },
      ReplaceFileEnd(temp, path));
}

// An .npy object is the header and the array in C order: row blocks spanning every other axis
// are consecutive byte ranges, so each is one part of a multipart upload, sent by its node.
// Every part but the last must hold 5 MiB, and there may be 10000.
void SaveS3(const BlockArray& x, const std::string& url) {
  const S3Location loc = ParseS3Url(url);
  const std::string header = FormatNpyHeader(x.dtype(), x.shape());
  if (x.ndim() == 0 || x.size() == 0) {  // a header and at most one element: one small PUT
    const NDArray a = x.get();
    std::string bytes = header;
    bytes.append(static_cast<const char*>(a.raw()), static_cast<size_t>(a.nbytes()));
    S3Put(loc, bytes.data(), static_cast<int64_t>(bytes.size()));
    return;
  }
  const int64_t n0 = x.shape()[0];
  const int64_t row_bytes = x.nbytes() / n0;
  int64_t rows = std::max(x.block_shape()[0], (kS3MinPartBytes + row_bytes - 1) / row_bytes);
  rows = std::max(rows, (n0 + kS3MaxParts - 1) / kS3MaxParts);
  rows = std::min(rows, n0);
  Shape parts_shape = x.shape();
  parts_shape[0] = rows;
  const BlockArray parts = parts_shape == x.block_shape() ? x : x.rechunk(parts_shape);
  const auto& impl = *parts.impl();

  const std::string upload_id = S3CreateMultipartUpload(loc);
  WriteEnd end{[&](const std::vector<engine::Block>& acks) {
                 std::vector<std::pair<int64_t, std::string>> etags;
                 for (size_t i = 0; i < acks.size(); ++i) {
                   etags.emplace_back(static_cast<int64_t>(i) + 1, DecodeETag(acks[i]));
                 }
                 S3CompleteMultipartUpload(loc, upload_id, etags);
               },
               [&] {
                 try {
                   S3AbortMultipartUpload(loc, upload_id);
                 } catch (...) {  // the write's own error is the one to report
                 }
               }};
  WriteBlocks(
      *impl.ctx, impl,
      [&](const Shape& e, const engine::ObjectRef& block) {
        engine::TaskSpec spec;
        spec.kernel = "io.s3.put_part";
        spec.args = {block, engine::Scalar{url}, engine::Scalar{upload_id},
                     detail::int_scalar(e[0] + 1), engine::Scalar{e[0] == 0 ? header : ""}};
        spec.name = "io.s3.put_part " + url + " part " + std::to_string(e[0] + 1);
        return spec;
      },
      end, engine::OutputSpec{DType::kInt64, {kETagChars}});
}

}  // namespace

void save(const BlockArray& x, const std::string& path) {
  const auto& impl = ArrayOf(x, "save");
  if (IsS3Url(path)) return SaveS3(x, path);
  SaveLocal(impl, path);
}

BlockArray load(const Context& context, const std::string& path, const LoadOptions& options) {
  std::shared_ptr<Context::Impl> ctx = context.impl();
  const bool s3 = IsS3Url(path);
  int64_t file_size = 0;
  engine::Scalar identity;
  std::function<void(void*, int64_t, int64_t)> read_at;
  if (s3) {
    const S3Location loc = ParseS3Url(path);
    const std::optional<S3ObjectInfo> info = S3Head(loc);
    if (!info) throw IOError(path + " does not exist (NoSuchKey)");
    file_size = info->size;
    identity = info->etag;
    read_at = [loc, etag = info->etag](void* buf, int64_t n, int64_t offset) {
      S3GetRange(loc, buf, n, offset, etag);
    };
  } else {
    FileSize(path);  // a missing path or a directory fails here, with its reason
    const std::vector<int64_t> id = FileIdentity(path);
    file_size = id[2];
    identity = id;
    auto fd = std::make_shared<FileDescriptor>(OpenFile(path, O_RDONLY));
    read_at = [fd, path](void* buf, int64_t n, int64_t offset) {
      PreadFully(fd->get(), buf, n, offset, path);
    };
  }
  std::string prelude(static_cast<size_t>(std::min<int64_t>(kNpyPreludeBytes, file_size)), '\0');
  read_at(prelude.data(), static_cast<int64_t>(prelude.size()), 0);
  const int64_t header_len = NpyHeaderLength(prelude, path);
  // NumPy writes headers of a few hundred bytes; a huge length is a corrupt file, not a reason
  // to allocate gigabytes.
  constexpr int64_t kMaxHeaderBytes = int64_t{64} << 20;
  if (header_len > kMaxHeaderBytes) {
    throw IOError("'" + path + "' is not a valid .npy file: its header claims " +
                  std::to_string(header_len) + " bytes");
  }
  if (header_len > file_size) {
    throw IOError("'" + path + "' is truncated: its header needs " + std::to_string(header_len) +
                  " bytes, the file has " + std::to_string(file_size));
  }
  std::string header(static_cast<size_t>(header_len), '\0');
  read_at(header.data(), header_len, 0);
  read_at = nullptr;  // closes the file
  const NpyHeader h = ParseNpyHeader(header, path);

  detail::check_shape(h.shape, h.dtype, "load");  // ValueError: bytes that do not fit int64
  const int64_t expected = h.data_offset + shape_size(h.shape) * itemsize(h.dtype);
  if (file_size < expected) {
    throw IOError("'" + path + "' is truncated: header and data of a " +
                  std::string(dtype_name(h.dtype)) + " array of shape " + shape_str(h.shape) +
                  " need " + std::to_string(expected) + " bytes, the file has " +
                  std::to_string(file_size));
  }
  ArrayGrid grid(h.shape, detail::choose_block_shape(*ctx, h.shape, h.dtype, options.block_shape),
                 h.dtype);
  // A Fortran-order file holds the transpose in C order: read each block's region of it.
  const Shape file_shape = h.fortran_order ? Shape(h.shape.rbegin(), h.shape.rend()) : h.shape;
  std::vector<engine::ObjectRef> blocks;
  blocks.reserve(static_cast<size_t>(grid.num_blocks()));
  engine::SubmitBatch batch(*ctx->runtime);
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    Shape offset = grid.block_offset(e), count = grid.block_shape_at(e);
    if (h.fortran_order) {
      offset = Shape(offset.rbegin(), offset.rend());
      count = Shape(count.rbegin(), count.rend());
    }
    const Shape bs = grid.block_shape_at(e);
    const int64_t block_bytes = shape_size(bs) * itemsize(h.dtype);
    // A transposed region needs a copy in file order; an S3 region, one for its byte spans.
    const int64_t scratch =
        (h.fortran_order && bs.size() > 1 ? block_bytes : 0) + (s3 ? 2 * block_bytes : 0);
    engine::TaskSpec spec{
        "io.npy.read",
        engine::Device::kCpu,
        detail::home_node(*ctx, grid, e),
        {engine::Scalar{path}, detail::int_scalar(h.data_offset), detail::shape_scalar(file_shape),
         detail::shape_scalar(offset), detail::shape_scalar(count),
         detail::int_scalar(static_cast<int64_t>(h.dtype)), engine::Scalar{h.fortran_order},
         engine::Scalar{h.big_endian}, identity},
        1,
        "io.npy.read '" + path + "' block " + shape_str(e),
        {engine::OutputSpec{h.dtype, bs}},
        scratch};
    // Reading again gives the same block as long as the file is the same version (checked).
    spec.io = true;
    spec.recomputable = true;
    blocks.push_back(ctx->runtime->Submit(std::move(spec))[0]);
  });
  batch.Send();
  return detail::make_array(std::move(ctx), std::move(grid), std::move(blocks));
}

}  // namespace nums::io
