// io::save / io::load: the driver handles the header; nodes read and write the blocks.

#include <fcntl.h>

#include <string>

#include "io/file_util.h"
#include "io/npy_format.h"
#include "io/write_commit.h"
#include "nums/io.hpp"
#include "src/array_impl.h"
#include "src/checked.h"

namespace nums::io {

void save(const BlockArray& x, const std::string& path) {
  const auto& impl = ArrayOf(x, "save");
  Context::Impl& ctx = *impl.ctx;
  const ArrayGrid& grid = impl.grid;
  const std::string header = FormatNpyHeader(grid.dtype(), grid.shape());
  const int64_t data_offset = static_cast<int64_t>(header.size());
  const int64_t total = data_offset + x.nbytes();

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

  const BlockWriteSpec spec_for = [&](const Shape& e, const engine::ObjectRef& block) {
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
  };
  WriteBlocks(ctx, impl, spec_for, TempFileCommit(temp, path));
}

BlockArray load(const Context& context, const std::string& path, const LoadOptions& options) {
  std::shared_ptr<Context::Impl> ctx = context.impl();
  FileSize(path);  // a missing path or a directory fails here, with its reason
  const std::vector<int64_t> identity = FileIdentity(path);
  const int64_t file_size = identity[2];
  FileDescriptor fd = OpenFile(path, O_RDONLY);
  std::string prelude(static_cast<size_t>(std::min<int64_t>(kNpyPreludeBytes, file_size)), '\0');
  PreadFully(fd.get(), prelude.data(), static_cast<int64_t>(prelude.size()), 0, path);
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
  PreadFully(fd.get(), header.data(), header_len, 0, path);
  fd.Close(path);
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
    const int64_t scratch =
        h.fortran_order && bs.size() > 1 ? shape_size(bs) * itemsize(h.dtype) : 0;
    engine::TaskSpec spec{
        "io.npy.read",
        engine::Device::kCpu,
        detail::home_node(*ctx, grid, e),
        {engine::Scalar{path}, detail::int_scalar(h.data_offset), detail::shape_scalar(file_shape),
         detail::shape_scalar(offset), detail::shape_scalar(count),
         detail::int_scalar(static_cast<int64_t>(h.dtype)), engine::Scalar{h.fortran_order},
         engine::Scalar{h.big_endian}, engine::Scalar{identity}},
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
