#pragma once
// How the blocks of an HDF5 dataset are read. Where the dataset's bytes lie in the file as they
// are in memory (no filters, little-endian types, storage allocated), a block is read with pread
// at addresses the driver looked up, in parallel and without the HDF5 lock; otherwise through
// HDF5 as a hyperslab.

#include <string>
#include <vector>

#include "engine/block.h"
#include "io/hdf5_util.h"
#include "nums/array_grid.hpp"

namespace nums::io {

/// The metadata of a dataset the driver needs.
struct Hdf5Layout {
  DType dtype = DType::kFloat64;
  engine::Shape shape;
  engine::Shape chunks;             ///< empty unless chunked
  bool raw = false;                 ///< the stored bytes are the elements as they are in memory
  int64_t contiguous_address = -1;  ///< contiguous and allocated: where the elements start
};

/// Reads the layout of an open dataset (under the Hdf5Lock). Throws as read_hdf5 does.
Hdf5Layout ReadHdf5Layout(const Hid& file, const Hid& dataset, const std::string& path,
                          const std::string& name);

/// How one block is read.
struct Hdf5BlockRead {
  enum class Kind { kHyperslab, kContiguous, kChunks } kind = Kind::kHyperslab;
  /// kChunks: for each chunk the block overlaps, its address and then its chunk-grid index.
  std::vector<int64_t> chunks;
};

/// The read of the block at `entry` of `grid` (under the Hdf5Lock, with `dataset` open).
/// kChunks only when every chunk the block overlaps is allocated and at most kMaxChunksPerBlock.
Hdf5BlockRead PlanBlockRead(const Hid& dataset, const Hdf5Layout& layout, const ArrayGrid& grid,
                            const engine::Shape& entry);
inline constexpr int64_t kMaxChunksPerBlock = 4096;

/// The default block shape for a dataset: the usual rule, each dimension rounded up to whole
/// chunks so that no chunk is read by two blocks.
engine::Shape ChunkAlignedBlockShape(const engine::Shape& block_shape, const Hdf5Layout& layout);

}  // namespace nums::io
