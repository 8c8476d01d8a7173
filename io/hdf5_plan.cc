#include "io/hdf5_plan.h"

#include <algorithm>

#include "nums/errors.hpp"

namespace nums::io {

Hdf5Layout ReadHdf5Layout(const Hid& file, const Hid& dataset, const std::string& path,
                          const std::string& name) {
  Hdf5Layout layout;
  Hid type(H5Dget_type(dataset.get()), H5Tclose);
  layout.dtype = DTypeOfHdf5(type.get(), path, name);
  Hid space(H5Dget_space(dataset.get()), H5Sclose);
  if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) {
    throw IOError("dataset '" + name + "' of HDF5 file '" + path +
                  "' has a null dataspace: it holds no array");
  }
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  layout.shape.assign(dims.begin(), dims.end());

  Hid dcpl(H5Dget_create_plist(dataset.get()), H5Pclose);
  const H5D_layout_t kind = H5Pget_layout(dcpl.get());
  if (kind == H5D_CHUNKED) {
    std::vector<hsize_t> c(static_cast<size_t>(std::max(rank, 0)));
    H5Pget_chunk(dcpl.get(), rank, c.data());
    layout.chunks.assign(c.begin(), c.end());
  }
  // Raw reads need the bytes as memory holds them: no filters, no external files, the storage
  // type equal to ours (little-endian IEEE or two's complement; h5py's bool enum), addresses
  // that are file offsets (no user block before the superblock).
  Hid storage = StorageType(layout.dtype);
  Hid fcpl(H5Fget_create_plist(file.get()), H5Pclose);
  hsize_t userblock = 0;
  H5Pget_userblock(fcpl.get(), &userblock);
  layout.raw = (kind == H5D_CHUNKED || kind == H5D_CONTIGUOUS) &&
               H5Pget_nfilters(dcpl.get()) == 0 && H5Pget_external_count(dcpl.get()) == 0 &&
               H5Tequal(type.get(), storage.get()) > 0 && userblock == 0;
  if (layout.raw && kind == H5D_CONTIGUOUS) {
    const haddr_t addr = H5Dget_offset(dataset.get());
    if (addr != HADDR_UNDEF) layout.contiguous_address = static_cast<int64_t>(addr);
  }
  Hdf5ErrorText();  // H5Dget_offset of unallocated storage leaves an error behind
  return layout;
}

Hdf5BlockRead PlanBlockRead(const Hid& dataset, const Hdf5Layout& layout, const ArrayGrid& grid,
                            const engine::Shape& entry) {
  Hdf5BlockRead plan;
  if (!layout.raw) return plan;
  if (layout.chunks.empty()) {
    if (layout.contiguous_address >= 0) plan.kind = Hdf5BlockRead::Kind::kContiguous;
    return plan;
  }
  const engine::Shape offset = grid.block_offset(entry), count = grid.block_shape_at(entry);
  const size_t nd = offset.size();
  engine::Shape first(nd), last(nd);  // chunk-grid index range the block overlaps
  int64_t n = 1;
  for (size_t d = 0; d < nd; ++d) {
    first[d] = offset[d] / layout.chunks[d];
    last[d] = (offset[d] + count[d] - 1) / layout.chunks[d];
    n *= last[d] - first[d] + 1;
  }
  if (n > kMaxChunksPerBlock) return plan;
  const int64_t chunk_bytes = shape_size(layout.chunks) * itemsize(layout.dtype);
  engine::Shape idx = first;
  std::vector<hsize_t> start(nd);
  for (int64_t k = 0; k < n; ++k) {
    for (size_t d = 0; d < nd; ++d) start[d] = static_cast<hsize_t>(idx[d] * layout.chunks[d]);
    unsigned filter_mask = 0;
    haddr_t addr = HADDR_UNDEF;
    hsize_t size = 0;
    if (H5Dget_chunk_info_by_coord(dataset.get(), start.data(), &filter_mask, &addr, &size) < 0 ||
        addr == HADDR_UNDEF || static_cast<int64_t>(size) != chunk_bytes || filter_mask != 0) {
      Hdf5ErrorText();
      return Hdf5BlockRead{};  // a chunk never written holds fill values: let HDF5 supply them
    }
    plan.chunks.push_back(static_cast<int64_t>(addr));
    plan.chunks.insert(plan.chunks.end(), idx.begin(), idx.end());
    for (size_t d = nd; d-- > 0;) {
      if (++idx[d] <= last[d]) break;
      idx[d] = first[d];
    }
  }
  plan.kind = Hdf5BlockRead::Kind::kChunks;
  return plan;
}

engine::Shape ChunkAlignedBlockShape(const engine::Shape& block_shape, const Hdf5Layout& layout) {
  if (layout.chunks.empty()) return block_shape;
  engine::Shape out = block_shape;
  for (size_t d = 0; d < out.size(); ++d) {
    const int64_t c = layout.chunks[d];
    if (c > 0 && layout.shape[d] > 0) {
      out[d] = std::min(layout.shape[d], (out[d] + c - 1) / c * c);
    }
  }
  return out;
}

}  // namespace nums::io
