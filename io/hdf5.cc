// io::read_hdf5 / io::write_hdf5 / io::read_hdf5_attributes: the driver handles files, datasets
// and attributes; nodes read and write the blocks' hyperslabs.

#include <algorithm>

#include "io/file_util.h"
#include "io/hdf5_plan.h"
#include "io/hdf5_util.h"
#include "io/write_commit.h"
#include "nums/io.hpp"
#include "src/array_impl.h"

namespace nums::io {
namespace {

// HDF5 refuses chunks of 4 GiB or more.
constexpr int64_t kMaxChunkBytes = (int64_t{1} << 32) - 1;

std::string Named(const std::string& path, const std::string& dataset) {
  return "dataset '" + dataset + "' of HDF5 file '" + path + "'";
}

void CheckDatasetName(const std::string& dataset, const std::string& path) {
  if (dataset.empty() || dataset.find_first_not_of('/') == std::string::npos) {
    throw ValueError("write_hdf5: '" + dataset + "' is not a dataset name (for '" + path + "')");
  }
}

// The chunk shape: the user's (checked), or the block shape halved along its largest dimension
// until a chunk fits HDF5's limit. Empty for arrays stored contiguously (0-d, empty).
Shape ChooseChunks(const BlockArray& x, const Hdf5WriteOptions& o, const std::string& path) {
  const Shape& shape = x.shape();
  const bool contiguous = shape.empty() || x.size() == 0;
  if (contiguous) {
    if (!o.chunks.empty() || !o.compression.empty()) {
      throw ValueError("write_hdf5: '" + path + "': an array of shape " + shape_str(shape) +
                       " is stored contiguously; HDF5 cannot chunk or compress it");
    }
    return {};
  }
  const int64_t item = itemsize(x.dtype());
  if (!o.chunks.empty()) {
    if (o.chunks.size() != shape.size()) {
      throw ValueError("write_hdf5: chunks " + shape_str(o.chunks) +
                       " do not match the rank of shape " + shape_str(shape));
    }
    int64_t bytes = item;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (o.chunks[d] < 1 || o.chunks[d] > shape[d]) {
        throw ValueError("write_hdf5: chunks " + shape_str(o.chunks) + " must lie in [1, " +
                         "shape] for shape " + shape_str(shape));
      }
      bytes *= o.chunks[d];  // <= the array's bytes, which fit int64
    }
    if (bytes > kMaxChunkBytes) {
      throw ValueError("write_hdf5: chunks " + shape_str(o.chunks) + " of " +
                       std::string(dtype_name(x.dtype())) + " take " + std::to_string(bytes) +
                       " bytes, more than HDF5's limit of 4 GiB");
    }
    return o.chunks;
  }
  Shape c = x.block_shape();
  while (shape_size(c) * item > kMaxChunkBytes) {
    auto it = std::max_element(c.begin(), c.end());
    *it = (*it + 1) / 2;
  }
  return c;
}

void WriteAttribute(hid_t obj, const std::string& name, const AttributeValue& value,
                    const std::string& path) {
  auto fail = [&] {
    throw IOError("writing attribute '" + name + "' to HDF5 file '" + path +
                  "': " + Hdf5ErrorText());
  };
  Hid space, type;
  const void* data = nullptr;
  const char* str = nullptr;
  if (const auto* d = std::get_if<double>(&value)) {
    space = Hid(H5Screate(H5S_SCALAR), H5Sclose);
    type = Hid(H5Tcopy(H5T_IEEE_F64LE), H5Tclose);
    data = d;
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    space = Hid(H5Screate(H5S_SCALAR), H5Sclose);
    type = Hid(H5Tcopy(H5T_STD_I64LE), H5Tclose);
    data = i;
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    // A variable-length UTF-8 string: what h5py writes for a str, and reads back as one.
    space = Hid(H5Screate(H5S_SCALAR), H5Sclose);
    type = Hid(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    str = s->c_str();
    data = &str;
  } else {
    const auto& v = std::get<std::vector<double>>(value);
    const hsize_t n = v.size();
    space = Hid(H5Screate_simple(1, &n, nullptr), H5Sclose);
    type = Hid(H5Tcopy(H5T_IEEE_F64LE), H5Tclose);
    data = v.data();
  }
  Hid attr(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
           H5Aclose);
  if (!attr.valid()) fail();
  hid_t mem = std::holds_alternative<std::string>(value) ? type.get()
              : std::holds_alternative<int64_t>(value)   ? H5T_NATIVE_INT64
                                                         : H5T_NATIVE_DOUBLE;
  const bool empty_vector = std::holds_alternative<std::vector<double>>(value) &&
                            std::get<std::vector<double>>(value).empty();
  if (!empty_vector && H5Awrite(attr.get(), mem, data) < 0) fail();
}

// Creates `temp` holding an empty dataset laid out for `x`, with its attributes.
void CreateFile(const BlockArray& x, const std::string& temp, const std::string& path,
                const std::string& dataset, const Shape& chunks, const Hdf5WriteOptions& o) {
  Hdf5Lock lock;
  auto fail = [&](const std::string& what) {
    throw IOError("creating " + Named(path, dataset) + ": " + what + ": " + Hdf5ErrorText());
  };
  Hid fapl = FileAccess();
  Hid file(H5Fcreate(temp.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), H5Fclose);
  if (!file.valid()) fail("cannot create '" + temp + "'");
  const std::vector<hsize_t> dims(x.shape().begin(), x.shape().end());
  Hid space(dims.empty() ? H5Screate(H5S_SCALAR)
                         : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
            H5Sclose);
  Hid lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (!chunks.empty()) {
    const std::vector<hsize_t> c(chunks.begin(), chunks.end());
    if (H5Pset_chunk(dcpl.get(), static_cast<int>(c.size()), c.data()) < 0) fail("chunks");
    if (o.compression == "gzip" &&
        H5Pset_deflate(dcpl.get(), static_cast<unsigned>(o.compression_level)) < 0) {
      fail("gzip");
    }
  }
  // Every element is written by a block task: filling chunks first would write them twice.
  H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER);
  // Unfiltered data gets its storage now, so that nodes can write it at known addresses.
  if (o.compression.empty()) H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY);
  Hid type = StorageType(x.dtype());
  Hid ds(H5Dcreate2(file.get(), dataset.c_str(), type.get(), space.get(), lcpl.get(), dcpl.get(),
                    H5P_DEFAULT),
         H5Dclose);
  if (!ds.valid()) fail("cannot create the dataset");
  for (const auto& [name, value] : o.attributes) WriteAttribute(ds.get(), name, value, path);
  ds.Close();
  if (!file.Close()) fail("closing '" + temp + "'");
}

// The value of attribute `attr`, as nums::io::AttributeValue; DTypeError for other kinds.
AttributeValue ReadAttribute(hid_t attr, const std::string& name, const std::string& path,
                             const std::string& dataset) {
  Hid type(H5Aget_type(attr), H5Tclose);
  Hid space(H5Aget_space(attr), H5Sclose);
  const H5S_class_t sclass = H5Sget_simple_extent_type(space.get());
  const int rank = H5Sget_simple_extent_ndims(space.get());
  hsize_t n = 1;
  if (rank == 1) H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  const H5T_class_t tclass = H5Tget_class(type.get());
  auto read_fail = [&] {
    throw IOError("reading attribute '" + name + "' of " + Named(path, dataset) + ": " +
                  Hdf5ErrorText());
  };
  if (sclass == H5S_SCALAR && tclass == H5T_FLOAT) {
    double v = 0;
    if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0) read_fail();
    return v;
  }
  if (sclass == H5S_SCALAR && tclass == H5T_INTEGER) {
    int64_t v = 0;
    if (H5Aread(attr, H5T_NATIVE_INT64, &v) < 0) read_fail();
    return v;
  }
  if (sclass == H5S_SCALAR && tclass == H5T_STRING) {
    if (H5Tis_variable_str(type.get()) > 0) {
      Hid mem(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(mem.get(), H5T_VARIABLE);
      H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
      char* s = nullptr;
      if (H5Aread(attr, mem.get(), &s) < 0) read_fail();
      std::string out = s ? s : "";
      H5free_memory(s);
      return out;
    }
    std::string out(H5Tget_size(type.get()), '\0');
    if (H5Aread(attr, type.get(), out.data()) < 0) read_fail();
    out.resize(std::min(out.size(), out.find('\0')));  // NUL-padded or -terminated
    return out;
  }
  if (sclass == H5S_SIMPLE && rank == 1 && tclass == H5T_FLOAT) {
    std::vector<double> v(n);
    if (n > 0 && H5Aread(attr, H5T_NATIVE_DOUBLE, v.data()) < 0) read_fail();
    return v;
  }
  throw DTypeError("attribute '" + name + "' of " + Named(path, dataset) + " holds " +
                   (sclass == H5S_SCALAR ? "a scalar" : std::to_string(rank) + "-d array") +
                   " of HDF5 type " + Hdf5TypeName(type.get()) +
                   "; nums reads scalar floats, integers and strings, and 1-d float arrays");
}

}  // namespace

BlockArray read_hdf5(const Context& context, const std::string& path, const std::string& dataset,
                     const Hdf5ReadOptions& options) {
  std::shared_ptr<Context::Impl> ctx = context.impl();
  Hdf5Layout layout;
  std::vector<int64_t> identity;
  ArrayGrid grid;
  std::vector<Hdf5BlockRead> plans;
  {
    Hdf5Lock lock;
    Hid file = OpenHdf5File(path, false, dataset);
    identity = FileIdentity(path);
    Hid ds = OpenDataset(file, path, dataset);
    layout = ReadHdf5Layout(file, ds, path, dataset);
    Shape bs = detail::choose_block_shape(*ctx, layout.shape, layout.dtype, options.block_shape);
    if (options.block_shape.empty()) bs = ChunkAlignedBlockShape(bs, layout);
    grid = ArrayGrid(layout.shape, bs, layout.dtype);
    plans.reserve(static_cast<size_t>(grid.num_blocks()));
    detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
      plans.push_back(PlanBlockRead(ds, layout, grid, e));
    });
  }
  const DType dtype = layout.dtype;
  std::vector<engine::ObjectRef> blocks;
  blocks.reserve(plans.size());
  engine::SubmitBatch batch(*ctx->runtime);
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const Shape bs = grid.block_shape_at(e), offset = grid.block_offset(e);
    const Hdf5BlockRead& plan = plans[static_cast<size_t>(grid.flat(e))];
    engine::TaskSpec spec;
    spec.node = detail::home_node(*ctx, grid, e);
    spec.name = "io.hdf5.read '" + path + "' " + dataset + " block " + shape_str(e);
    spec.outputs = {engine::OutputSpec{dtype, bs}};
    const auto code = detail::int_scalar(static_cast<int64_t>(dtype));
    switch (plan.kind) {
      case Hdf5BlockRead::Kind::kContiguous:
        spec.kernel = "io.hdf5.read_contiguous";  // the .npy reader's: a C-order array at an offset
        spec.args = {engine::Scalar{path},
                     detail::int_scalar(layout.contiguous_address),
                     detail::shape_scalar(layout.shape),
                     detail::shape_scalar(offset),
                     detail::shape_scalar(bs),
                     code,
                     engine::Scalar{false},
                     engine::Scalar{false}};
        break;
      case Hdf5BlockRead::Kind::kChunks:
        spec.kernel = "io.hdf5.read_chunks";
        spec.args = {engine::Scalar{path},
                     detail::shape_scalar(offset),
                     detail::shape_scalar(bs),
                     code,
                     detail::shape_scalar(layout.chunks),
                     engine::Scalar{plan.chunks}};
        spec.scratch_bytes = shape_size(layout.chunks) * itemsize(dtype);
        break;
      case Hdf5BlockRead::Kind::kHyperslab:
        spec.kernel = "io.hdf5.read";
        spec.args = {engine::Scalar{path}, engine::Scalar{dataset}, detail::shape_scalar(offset),
                     detail::shape_scalar(bs), code};
        break;
    }
    spec.args.push_back(engine::Scalar{identity});
    // Reading again gives the same block as long as the file is the same version (checked).
    spec.io = true;
    spec.recomputable = true;
    blocks.push_back(ctx->runtime->Submit(std::move(spec))[0]);
  });
  batch.Send();
  return detail::make_array(std::move(ctx), std::move(grid), std::move(blocks));
}

void write_hdf5(const BlockArray& x, const std::string& path, const std::string& dataset,
                const Hdf5WriteOptions& options) {
  CheckDatasetName(dataset, path);
  if (!options.compression.empty() && options.compression != "gzip") {
    throw ValueError("write_hdf5: unknown compression '" + options.compression +
                     "' (\"\" or \"gzip\")");
  }
  if (options.compression_level < 0 || options.compression_level > 9) {
    throw ValueError("write_hdf5: gzip level " + std::to_string(options.compression_level) +
                     " is not in [0, 9]");
  }
  const auto& impl = ArrayOf(x, "write_hdf5");
  const Shape chunks = ChooseChunks(x, options, path);
  Context::Impl& ctx = *impl.ctx;
  const ArrayGrid& grid = impl.grid;

  const std::string temp = TempPathFor(path);
  // Where each block goes: raw addresses for unfiltered data (allocated at creation), else HDF5.
  Hdf5Layout layout;
  std::vector<Hdf5BlockRead> plans;
  try {
    CreateFile(x, temp, path, dataset, chunks, options);
    Hdf5Lock lock;
    Hid file = OpenHdf5File(temp, false, dataset);
    Hid ds = OpenDataset(file, temp, dataset);
    layout = ReadHdf5Layout(file, ds, temp, dataset);
    detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
      plans.push_back(PlanBlockRead(ds, layout, grid, e));
    });
  } catch (...) {
    RemoveQuietly(temp);
    throw;
  }
  const auto code = detail::int_scalar(static_cast<int64_t>(grid.dtype()));
  const BlockWriteSpec spec_for = [&](const Shape& e, const engine::ObjectRef& block) {
    const Hdf5BlockRead& plan = plans[static_cast<size_t>(grid.flat(e))];
    const Shape offset = grid.block_offset(e);
    engine::TaskSpec spec;
    spec.name = "io.hdf5.write '" + path + "' " + dataset + " block " + shape_str(e);
    if (plan.kind == Hdf5BlockRead::Kind::kChunks) {
      spec.kernel = "io.hdf5.write_chunks";
      spec.args = {block,
                   engine::Scalar{temp},
                   detail::shape_scalar(offset),
                   detail::shape_scalar(grid.shape()),
                   code,
                   detail::shape_scalar(layout.chunks),
                   engine::Scalar{plan.chunks}};
      spec.scratch_bytes = shape_size(layout.chunks) * itemsize(grid.dtype());
    } else if (plan.kind == Hdf5BlockRead::Kind::kContiguous) {
      spec.kernel = "io.hdf5.write_contiguous";  // the .npy writer's: C order at an offset
      spec.args = {block,
                   engine::Scalar{temp},
                   detail::int_scalar(layout.contiguous_address),
                   detail::shape_scalar(grid.shape()),
                   detail::shape_scalar(offset),
                   code};
    } else {
      spec.kernel = "io.hdf5.write";
      spec.args = {block, engine::Scalar{temp}, engine::Scalar{dataset},
                   detail::shape_scalar(offset), code};
    }
    return spec;
  };
  WriteBlocks(ctx, impl, spec_for, TempFileCommit(temp, path));
}

Attributes read_hdf5_attributes(const std::string& path, const std::string& dataset) {
  Hdf5Lock lock;
  Hid file = OpenHdf5File(path, false, dataset);
  Hid ds = OpenDataset(file, path, dataset);
  H5O_info_t info;
  if (H5Oget_info2(ds.get(), &info, H5O_INFO_NUM_ATTRS) < 0) {
    throw IOError("reading the attributes of " + Named(path, dataset) + ": " + Hdf5ErrorText());
  }
  Attributes out;
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    Hid attr(H5Aopen_by_idx(ds.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT),
             H5Aclose);
    if (!attr.valid()) {
      throw IOError("reading attribute " + std::to_string(i) + " of " + Named(path, dataset) +
                    ": " + Hdf5ErrorText());
    }
    const ssize_t len = H5Aget_name(attr.get(), 0, nullptr);
    std::string name(static_cast<size_t>(std::max<ssize_t>(len, 0)) + 1, '\0');
    H5Aget_name(attr.get(), name.size(), name.data());
    name.resize(static_cast<size_t>(std::max<ssize_t>(len, 0)));
    out[name] = ReadAttribute(attr.get(), name, path, dataset);
  }
  return out;
}

}  // namespace nums::io
