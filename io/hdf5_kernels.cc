// Block reads and writes of HDF5 datasets: one hyperslab per block, under the process's HDF5
// lock. Writers of one file in several processes take turns through flock on the file.

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cstring>

#include "io/file_util.h"
#include "io/hdf5_util.h"
#include "io/kernels.h"
#include "io/region.h"

namespace nums::io {
namespace {

using engine::Block;
using engine::KernelContext;

// Scalars: path, dataset, block offset, block shape, dtype code, and optionally the file's
// identity to check. Output: the block.
std::vector<Block> ReadHdf5Block(const KernelContext& k) {
  const auto& path = k.scalar<std::string>(0);
  const auto& dataset = k.scalar<std::string>(1);
  const auto& offset = k.scalar<std::vector<int64_t>>(2);
  const auto& count = k.scalar<std::vector<int64_t>>(3);
  const DType dtype = dtype_from_code(k.scalar<int64_t>(4));
  Block out = Block::Allocate(dtype, count);
  // Checked on a reader of our own: HDF5 opens the file by its path just after.
  if (k.scalars.size() > 5) RangeReader(path, VersionArg(k, 5)).CheckVersion();
  Hdf5Lock lock;
  Hid file = OpenHdf5File(path, false, dataset);
  Hid ds = OpenDataset(file, path, dataset);
  // The file may have changed since the driver read its metadata.
  Hid type(H5Dget_type(ds.get()), H5Tclose);
  if (DTypeOfHdf5(type.get(), path, dataset) != dtype) {
    throw IOError("dataset '" + dataset + "' of HDF5 file '" + path + "' changed its type");
  }
  auto [file_space, mem_space] = BlockSpaces(ds, offset, count);
  Hid mem_type = MemoryType(dtype);
  if (H5Dread(ds.get(), mem_type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, out.raw()) <
      0) {
    throw IOError("reading block " + engine::ShapeToString(count) + " at " +
                  engine::ShapeToString(offset) + " of dataset '" + dataset + "' of HDF5 file '" +
                  path + "': " + Hdf5ErrorText());
  }
  return {out};
}

// The raw path (no HDF5 calls, no lock): each chunk the block overlaps is read with pread at the
// address the driver looked up. Scalars: path, block offset, block shape, dtype code, chunk
// shape, per chunk its address followed by its chunk-grid index, and optionally the file's
// identity to check. Output: the block.
std::vector<Block> ReadHdf5Chunks(const KernelContext& k) {
  const auto& path = k.scalar<std::string>(0);
  const auto& offset = k.scalar<std::vector<int64_t>>(1);
  const auto& count = k.scalar<std::vector<int64_t>>(2);
  const DType dtype = dtype_from_code(k.scalar<int64_t>(3));
  const auto& chunk = k.scalar<std::vector<int64_t>>(4);
  const auto& chunks = k.scalar<std::vector<int64_t>>(5);
  const size_t nd = count.size();
  const int64_t item = itemsize(dtype);
  Block out = Block::Allocate(dtype, count);
  auto* dst = static_cast<uint8_t*>(out.raw());
  std::vector<uint8_t> scratch;  // a chunk, when the block takes a strided part of it
  const RangeReader reader(path, VersionArg(k, 6));
  engine::Shape src_offset(nd), dst_offset(nd), n(nd);
  struct Run {
    int64_t src, dst, n;
  };
  std::vector<Run> runs;
  for (size_t at = 0; at + nd < chunks.size(); at += nd + 1) {
    const int64_t address = chunks[at];
    for (size_t d = 0; d < nd; ++d) {
      const int64_t start = chunks[at + 1 + d] * chunk[d];
      const int64_t lo = std::max(start, offset[d]);
      const int64_t hi = std::min(start + chunk[d], offset[d] + count[d]);
      src_offset[d] = lo - start;
      dst_offset[d] = lo - offset[d];
      n[d] = hi - lo;
    }
    runs.clear();
    ForEachRunBetween(chunk, src_offset, count, dst_offset, n,
                      [&](int64_t s, int64_t t, int64_t len) {
                        runs.push_back({s, t, len});
                      });
    if (runs.size() == 1) {
      reader.Read(dst + runs[0].dst * item, runs[0].n * item, address + runs[0].src * item);
      continue;
    }
    // One read of the chunk's span instead of a read per row.
    const int64_t first = runs.front().src, end = runs.back().src + runs.back().n;
    scratch.resize(static_cast<size_t>((end - first) * item));
    reader.Read(scratch.data(), (end - first) * item, address + first * item);
    for (const Run& r : runs) {
      std::memcpy(dst + r.dst * item, scratch.data() + (r.src - first) * item,
                  static_cast<size_t>(r.n * item));
    }
  }
  return {out};
}

// The raw write path: the driver allocated every chunk when it created the dataset (no filters),
// so each chunk the block overlaps is written with pwrite at its address: no HDF5 call, no lock,
// no turns between processes (blocks write disjoint bytes). Input: the block. Scalars: path,
// block offset, dataset shape, dtype code, chunk shape, per chunk its address and chunk-grid
// index. Output: a 0-d int64 acknowledgement holding the bytes written.
std::vector<Block> WriteHdf5Chunks(const KernelContext& k) {
  const auto& path = k.scalar<std::string>(0);
  const auto& offset = k.scalar<std::vector<int64_t>>(1);
  const auto& shape = k.scalar<std::vector<int64_t>>(2);
  const DType dtype = dtype_from_code(k.scalar<int64_t>(3));
  const auto& chunk = k.scalar<std::vector<int64_t>>(4);
  const auto& chunks = k.scalar<std::vector<int64_t>>(5);
  if (k.inputs.size() != 1) throw ValueError("io.hdf5.write_chunks takes one block");
  const Block& in = k.inputs[0];
  const size_t nd = shape.size();
  if (in.dtype() != dtype || in.shape().size() != nd) {
    throw ValueError("io.hdf5.write_chunks: block of " + std::string(dtype_name(in.dtype())) + " " +
                     engine::ShapeToString(in.shape()) + " does not fit the " +
                     std::string(dtype_name(dtype)) + " dataset of shape " +
                     engine::ShapeToString(shape) + " written to '" + path + "'");
  }
  const engine::Shape& count = in.shape();
  const int64_t item = itemsize(dtype);
  const auto* src = static_cast<const uint8_t*>(in.raw());
  FileDescriptor fd = OpenFile(path, O_WRONLY);
  engine::Shape src_offset(nd), dst_offset(nd), n(nd);
  std::vector<uint8_t> scratch;  // a whole chunk, assembled from rows that are not contiguous
  for (size_t at = 0; at + nd < chunks.size(); at += nd + 1) {
    const int64_t address = chunks[at];
    bool whole = true;  // this block holds every element the chunk has inside the dataset
    for (size_t d = 0; d < nd; ++d) {
      const int64_t start = chunks[at + 1 + d] * chunk[d];
      const int64_t lo = std::max(start, offset[d]);
      const int64_t hi = std::min(start + chunk[d], offset[d] + count[d]);
      if (lo >= hi || offset[d] < 0 || offset[d] + count[d] > shape[d]) {
        throw ValueError("io.hdf5.write_chunks: block " + engine::ShapeToString(count) + " at " +
                         engine::ShapeToString(offset) + " misses a chunk it was given in '" +
                         path + "'");
      }
      whole = whole && lo == start && hi == std::min(start + chunk[d], shape[d]);
      src_offset[d] = lo - offset[d];
      dst_offset[d] = lo - start;
      n[d] = hi - lo;
    }
    int64_t runs = 0;
    ForEachRunBetween(count, src_offset, chunk, dst_offset, n,
                      [&](int64_t, int64_t, int64_t) { ++runs; });
    if (whole && runs > 1) {
      // An edge chunk: one write of the chunk (what lies outside the dataset is never read).
      scratch.assign(static_cast<size_t>(engine::ShapeSize(chunk) * item), 0);
      ForEachRunBetween(
          count, src_offset, chunk, dst_offset, n, [&](int64_t s, int64_t t, int64_t len) {
            std::memcpy(scratch.data() + t * item, src + s * item, static_cast<size_t>(len * item));
          });
      PwriteFully(fd.get(), scratch.data(), static_cast<int64_t>(scratch.size()), address, path);
      continue;
    }
    ForEachRunBetween(count, src_offset, chunk, dst_offset, n,
                      [&](int64_t s, int64_t t, int64_t len) {
                        PwriteFully(fd.get(), src + s * item, len * item, address + t * item, path);
                      });
  }
  fd.Close(path);
  Block ack = Block::Allocate(DType::kInt64, {});
  *ack.data<int64_t>() = in.nbytes();
  return {ack};
}

// Input: the block. Scalars: the (temporary) file, dataset, block offset, dtype code. Output: a
// 0-d int64 acknowledgement holding the bytes written.
std::vector<Block> WriteHdf5Block(const KernelContext& k) {
  const auto& path = k.scalar<std::string>(0);
  const auto& dataset = k.scalar<std::string>(1);
  const auto& offset = k.scalar<std::vector<int64_t>>(2);
  const DType dtype = dtype_from_code(k.scalar<int64_t>(3));
  if (k.inputs.size() != 1) throw ValueError("io.hdf5.write takes one block");
  const Block& in = k.inputs[0];
  if (in.dtype() != dtype || in.ndim() != static_cast<int64_t>(offset.size())) {
    throw ValueError("io.hdf5.write: block of " + std::string(dtype_name(in.dtype())) + " " +
                     engine::ShapeToString(in.shape()) + " does not fit the " +
                     std::string(dtype_name(dtype)) + " dataset '" + dataset + "' written to '" +
                     path + "'");
  }
  // HDF5 files take one writer at a time: flock orders this process's writers against other
  // processes' (a cluster of node processes on one filesystem); the lock below orders threads.
  // flock comes first so that no thread waits for another process while holding the lock.
  FileDescriptor guard = OpenFile(path, O_RDWR);
  while (::flock(guard.get(), LOCK_EX) != 0) {
    if (errno != EINTR) throw IOError("locking '" + path + "': " + ErrnoText());
  }
  {
    Hdf5Lock lock;
    Hid file = OpenHdf5File(path, true, dataset);
    Hid ds = OpenDataset(file, path, dataset);
    Hid space(H5Dget_space(ds.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    for (size_t d = 0; d < offset.size(); ++d) {
      if (rank != in.ndim() || offset[d] < 0 ||
          static_cast<hsize_t>(offset[d] + in.shape()[d]) > dims[d]) {
        throw ValueError("io.hdf5.write: block " + engine::ShapeToString(in.shape()) + " at " +
                         engine::ShapeToString(offset) + " lies outside dataset '" + dataset +
                         "' of '" + path + "'");
      }
    }
    auto [file_space, mem_space] = BlockSpaces(ds, offset, in.shape());
    Hid mem_type = MemoryType(dtype);
    if (H5Dwrite(ds.get(), mem_type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT,
                 in.raw()) < 0) {
      throw IOError("writing block " + engine::ShapeToString(in.shape()) + " at " +
                    engine::ShapeToString(offset) + " of dataset '" + dataset + "' of HDF5 file '" +
                    path + "': " + Hdf5ErrorText());
    }
    ds.Close();
    if (!file.Close()) {
      throw IOError("closing HDF5 file '" + path + "' after writing dataset '" + dataset +
                    "': " + Hdf5ErrorText());
    }
  }
  guard.Close(path);  // releases the flock
  Block ack = Block::Allocate(DType::kInt64, {});
  *ack.data<int64_t>() = in.nbytes();
  return {ack};
}

}  // namespace

void RegisterHdf5Kernels(engine::KernelRegistry& registry) {
  registry.Register("io.hdf5.read", engine::Device::kCpu, NamingTheBlock(ReadHdf5Block, 2, 3));
  registry.Register("io.hdf5.read_chunks", engine::Device::kCpu,
                    NamingTheBlock(ReadHdf5Chunks, 1, 2));
  registry.Register("io.hdf5.write", engine::Device::kCpu, WriteHdf5Block);
  registry.Register("io.hdf5.write_chunks", engine::Device::kCpu, WriteHdf5Chunks);
}

}  // namespace nums::io
