// Block reads and writes of `.npy` files: pread/pwrite of a block's contiguous runs.

#include <fcntl.h>

#include <cstring>
#include <vector>

#include "io/file_util.h"
#include "io/kernels.h"
#include "io/region.h"
#include "io/s3.h"
#include "io/storage.h"

namespace nums::io {
namespace {

using engine::Block;
using engine::KernelContext;
using engine::Shape;

Shape Reversed(Shape s) { return Shape(s.rbegin(), s.rend()); }

// A region of an S3 object: runs closer than kS3GapBytes share one ranged GET of their span (a
// request costs more than reading the bytes between), copied out of a scratch buffer of at
// most twice the region's bytes.
constexpr int64_t kS3GapBytes = int64_t{1} << 20;

void ReadS3Runs(const std::string& url, const std::string& etag, int64_t data_offset, int64_t item,
                const Shape& file_shape, const Shape& offset, const Shape& count, uint8_t* dst) {
  struct Run {
    int64_t file, block, n;  // bytes
  };
  std::vector<Run> runs;
  ForEachRun(file_shape, offset, count, [&](int64_t file_pos, int64_t block_pos, int64_t n) {
    runs.push_back({data_offset + file_pos * item, block_pos * item, n * item});
  });
  int64_t total = 0;
  for (const Run& r : runs) total += r.n;
  const S3Location loc = ParseS3Url(url);
  std::vector<uint8_t> span;
  for (size_t i = 0; i < runs.size();) {
    size_t j = i + 1;
    while (j < runs.size() && runs[j].file - (runs[j - 1].file + runs[j - 1].n) <= kS3GapBytes &&
           runs[j].file >= runs[j - 1].file + runs[j - 1].n &&
           runs[j].file + runs[j].n - runs[i].file <= 2 * total) {
      ++j;
    }
    if (j == i + 1) {
      S3GetRange(loc, dst + runs[i].block, runs[i].n, runs[i].file, etag);
    } else {
      const int64_t begin = runs[i].file, end = runs[j - 1].file + runs[j - 1].n;
      span.resize(static_cast<size_t>(end - begin));
      S3GetRange(loc, span.data(), end - begin, begin, etag);
      for (size_t r = i; r < j; ++r) {
        std::memcpy(dst + runs[r].block, span.data() + (runs[r].file - begin),
                    static_cast<size_t>(runs[r].n));
      }
    }
    i = j;
  }
}

// Scalars: path, data offset, file shape (row-major as stored), region offset and count in that
// shape, dtype code, fortran_order, big_endian, and optionally the file's identity to check
// (FileIdentity's numbers, or an S3 object's ETag). The output is the block in C order.
std::vector<Block> ReadNpyBlock(const KernelContext& k) {
  const auto& path = k.scalar<std::string>(0);
  const int64_t data_offset = k.scalar<int64_t>(1);
  const auto& file_shape = k.scalar<std::vector<int64_t>>(2);
  const auto& offset = k.scalar<std::vector<int64_t>>(3);
  const auto& count = k.scalar<std::vector<int64_t>>(4);
  const DType dtype = dtype_from_code(k.scalar<int64_t>(5));
  const bool fortran = k.scalar<bool>(6);
  const bool swap = k.scalar<bool>(7);
  const int64_t item = itemsize(dtype);

  Block out = Block::Allocate(dtype, fortran ? Reversed(count) : count);
  std::vector<uint8_t> scratch;  // the region in file order, when it must be transposed
  uint8_t* dst = static_cast<uint8_t*>(out.raw());
  if (fortran && out.ndim() > 1) {
    scratch.resize(static_cast<size_t>(out.nbytes()));
    dst = scratch.data();
  }
  if (IsS3Url(path)) {
    ReadS3Runs(path, k.scalars.size() > 8 ? k.scalar<std::string>(8) : "", data_offset, item,
               file_shape, offset, count, dst);
  } else {
    FileDescriptor fd = OpenFile(path, O_RDONLY);
    if (k.scalars.size() > 8) CheckFileIdentity(fd.get(), k.scalar<std::vector<int64_t>>(8), path);
    ForEachRun(file_shape, offset, count, [&](int64_t file_pos, int64_t block_pos, int64_t n) {
      PreadFully(fd.get(), dst + block_pos * item, n * item, data_offset + file_pos * item, path);
    });
  }
  if (swap) ByteSwap(dst, out.size(), item);
  if (dst != out.raw()) ReverseAxes(dst, count, item, out.raw());
  return {out};
}

// Input: the block. Scalars: path, data offset, file shape, the block's offset, dtype code.
// Output: a 0-d int64 acknowledgement holding the bytes written.
std::vector<Block> WriteNpyBlock(const KernelContext& k) {
  const auto& path = k.scalar<std::string>(0);
  const int64_t data_offset = k.scalar<int64_t>(1);
  const auto& file_shape = k.scalar<std::vector<int64_t>>(2);
  const auto& offset = k.scalar<std::vector<int64_t>>(3);
  const DType dtype = dtype_from_code(k.scalar<int64_t>(4));
  if (k.inputs.size() != 1) throw ValueError("io.npy.write takes one block");
  const Block& in = k.inputs[0];
  if (in.dtype() != dtype || in.ndim() != static_cast<int64_t>(file_shape.size())) {
    throw ValueError("io.npy.write: block of " + std::string(dtype_name(in.dtype())) + " " +
                     engine::ShapeToString(in.shape()) + " does not fit a " +
                     std::string(dtype_name(dtype)) + " array of shape " +
                     engine::ShapeToString(file_shape) + " written to '" + path + "'");
  }
  for (size_t d = 0; d < file_shape.size(); ++d) {
    if (offset[d] < 0 || offset[d] + in.shape()[d] > file_shape[d]) {
      throw ValueError("io.npy.write: block " + engine::ShapeToString(in.shape()) + " at " +
                       engine::ShapeToString(offset) + " lies outside the array of shape " +
                       engine::ShapeToString(file_shape) + " written to '" + path + "'");
    }
  }
  const int64_t item = itemsize(dtype);
  const auto* src = static_cast<const uint8_t*>(in.raw());
  FileDescriptor fd = OpenFile(path, O_WRONLY);
  ForEachRun(file_shape, offset, in.shape(), [&](int64_t file_pos, int64_t block_pos, int64_t n) {
    PwriteFully(fd.get(), src + block_pos * item, n * item, data_offset + file_pos * item, path);
  });
  fd.Close(path);
  Block ack = Block::Allocate(DType::kInt64, {});
  *ack.data<int64_t>() = in.nbytes();
  return {ack};
}

}  // namespace

void RegisterNpyKernels(engine::KernelRegistry& registry) {
  registry.Register("io.npy.read", engine::Device::kCpu, NamingTheBlock(ReadNpyBlock, 3, 4));
  // An unfiltered, contiguous HDF5 dataset is a C-order array at an offset, like an .npy file.
  registry.Register("io.hdf5.read_contiguous", engine::Device::kCpu,
                    NamingTheBlock(ReadNpyBlock, 3, 4));
  registry.Register("io.npy.write", engine::Device::kCpu, WriteNpyBlock);
  // Likewise for writing into a contiguous dataset whose storage the driver allocated.
  registry.Register("io.hdf5.write_contiguous", engine::Device::kCpu, WriteNpyBlock);
}

}  // namespace nums::io
