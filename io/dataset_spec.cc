// io::read / io::write: one string names a dataset; the spec picks the reader or writer by its
// form (see DatasetSpec in nums/io.hpp), which then works as it does when called by name.

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "io/file_util.h"
#include "io/s3.h"
#include "io/storage.h"
#include "io/write_commit.h"
#include "nums/indexing.hpp"
#include "nums/io.hpp"
#include "nums/progress.hpp"
#include "src/array_impl.h"

namespace nums::io {
namespace {

constexpr const char* kAcceptedForms =
    "PATH.npy or s3://BUCKET/KEY.npy (NumPy .npy), PATH.h5:/DATASET or PATH.hdf5:/DATASET "
    "(HDF5; s3://BUCKET/KEY.h5:/DATASET to read), PATH.csv (CSV), zarr://STORE, PATH.zarr or "
    "s3://BUCKET/PREFIX.zarr (zarr v2)";

[[noreturn]] void BadSpec(const std::string& spec, const std::string& reason) {
  throw ValueError("dataset spec '" + spec + "': " + reason +
                   "; accepted forms: " + kAcceptedForms);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string StripTrailingSlashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// One element as CSV text that read_csv parses back to the same value: the shortest decimal
// that round-trips (std::to_chars), "nan" / "inf" / "-inf", bools as 1 / 0.
void AppendCsvValue(const NDArray& a, int64_t k, std::string& out) {
  char buf[64];
  char* end = buf;
  switch (a.dtype()) {
    case DType::kFloat64:
    case DType::kFloat32:
    case DType::kFloat16: {
      const double v = a.value_at<double>(k);
      if (std::isnan(v)) {
        out += "nan";
        return;
      }
      if (std::isinf(v)) {
        out += v > 0 ? "inf" : "-inf";
        return;
      }
      // float32 and float16 values are floats exactly: a float's shortest digits read back.
      end = a.dtype() == DType::kFloat64
                ? std::to_chars(buf, buf + sizeof buf, v).ptr
                : std::to_chars(buf, buf + sizeof buf, static_cast<float>(v)).ptr;
      break;
    }
    case DType::kBool:
      out += a.data<bool>()[k] ? '1' : '0';
      return;
    case DType::kUInt64:
      end = std::to_chars(buf, buf + sizeof buf, a.data<uint64_t>()[k]).ptr;
      break;
    default:
      end = std::to_chars(buf, buf + sizeof buf, a.value_at<int64_t>(k)).ptr;
      break;
  }
  out.append(buf, end);
}

// The driver writes the text row block by row block into a temporary file, then renames it.
void WriteCsv(const BlockArray& x, const std::string& path) {
  if (is_complex(x.dtype())) {
    throw DTypeError("write: '" + path +
                     "': CSV holds real numbers; complex128 is not supported (use .npy, HDF5 or "
                     "zarr)");
  }
  if (x.ndim() > 2) {
    throw ValueError("write: '" + path + "': a CSV file holds 0-d, 1-d or 2-d arrays, not shape " +
                     shape_str(x.shape()));
  }
  const int64_t rows = x.ndim() == 0 ? 1 : x.shape()[0];
  const int64_t step = x.ndim() == 0 ? 1 : std::max<int64_t>(1, x.block_shape()[0]);
  const std::string temp = TempPathFor(path);
  try {
    FileDescriptor fd = OpenFile(temp, O_WRONLY | O_CREAT | O_EXCL);
    int64_t offset = 0;
    std::string text;
    for (int64_t r0 = 0; r0 < rows; r0 += step) {
      const int64_t r1 = std::min(rows, r0 + step);
      const NDArray part = x.ndim() == 0 ? x.get() : BlockArray(x(slice(r0, r1))).get();
      const int64_t cols = x.ndim() == 2 ? x.shape()[1] : 1;
      text.clear();
      for (int64_t r = 0; r < r1 - r0; ++r) {
        for (int64_t c = 0; c < cols; ++c) {
          if (c > 0) text += ',';
          AppendCsvValue(part, r * cols + c, text);
        }
        text += '\n';
      }
      PwriteFully(fd.get(), text.data(), static_cast<int64_t>(text.size()), offset, temp);
      offset += static_cast<int64_t>(text.size());
    }
    fd.Close(temp);
    CommitTempFile(temp, path);
  } catch (...) {
    RemoveQuietly(temp);
    throw;
  }
}

}  // namespace

std::string format_name(Format format) {
  switch (format) {
    case Format::kNpy:
      return "npy";
    case Format::kHdf5:
      return "hdf5";
    case Format::kCsv:
      return "csv";
    case Format::kZarr:
      return "zarr";
  }
  return "unknown";
}

DatasetSpec parse_dataset_spec(const std::string& spec) {
  if (spec.empty()) BadSpec(spec, "the spec is empty");
  const std::string lower = Lower(spec);
  if (lower.rfind("zarr://", 0) == 0) {
    const std::string store = StripTrailingSlashes(spec.substr(7));
    if (store.empty() || store == "/") BadSpec(spec, "no store after 'zarr://'");
    return {Format::kZarr, store, ""};
  }
  const bool s3 = IsS3Url(spec);
  if (s3) ParseS3Url(spec);  // ValueError for a URL without a bucket
  if (EndsWith(StripTrailingSlashes(lower), ".zarr")) {
    return {Format::kZarr, StripTrailingSlashes(spec), ""};
  }

  // HDF5: the file ends at the first ".h5:" or ".hdf5:"; what follows names the dataset.
  size_t split = std::string::npos;
  for (const std::string ext : {".h5:", ".hdf5:"}) {
    const size_t at = lower.find(ext);
    if (at != std::string::npos && (split == std::string::npos || at + ext.size() - 1 < split)) {
      split = at + ext.size() - 1;  // the ':'
    }
  }
  if (split != std::string::npos) {
    const std::string dataset = spec.substr(split + 1);
    if (dataset.empty() || dataset == "/") {
      BadSpec(spec, "no HDF5 dataset after ':'; name one, e.g. '" + spec.substr(0, split) + ":/X'");
    }
    return {Format::kHdf5, spec.substr(0, split), dataset};
  }
  if (EndsWith(lower, ".h5") || EndsWith(lower, ".hdf5")) {
    throw ValueError("dataset spec '" + spec +
                     "' names an HDF5 file but no dataset inside it: add ':/name', e.g. '" + spec +
                     ":/X'");
  }
  if (EndsWith(lower, ".npy")) return {Format::kNpy, spec, ""};
  if (EndsWith(lower, ".csv")) {
    if (s3) BadSpec(spec, "CSV files on S3 are not supported");
    return {Format::kCsv, spec, ""};
  }
  BadSpec(spec, "the format cannot be told from it");
}

namespace {

// A read of at least this many bytes shows a progress bar on a terminal.
constexpr int64_t kProgressReadBytes = int64_t{256} << 20;

// Draws a bar of x's blocks arriving in their nodes' memory, where one is shown (a large read on
// a terminal); else returns at once and the read goes on behind the driver's next calls.
void ShowReadProgress(const BlockArray& x, const std::string& spec) {
  if (x.nbytes() < kProgressReadBytes) return;
  ProgressBar bar("read " + spec, x.nbytes());
  if (!bar.enabled()) return;
  std::vector<engine::ObjectRef> pending = x.impl()->blocks;
  const auto blocks = static_cast<int64_t>(pending.size());
  engine::Runtime& rt = *x.impl()->ctx->runtime;
  // About 20 waits in all, each for the next twentieth of the blocks.
  const auto step = std::max<int64_t>(1, blocks / 20);
  while (!pending.empty()) {
    const int64_t k = std::min<int64_t>(step, static_cast<int64_t>(pending.size()));
    pending = rt.Wait(pending, k).not_ready;
    const auto done = blocks - static_cast<int64_t>(pending.size());
    bar.set(blocks == 0 ? x.nbytes() : done * x.nbytes() / blocks);
  }
  bar.finish();
}

BlockArray ReadFormat(const Context& ctx, const DatasetSpec& d, const ReadOptions& options) {
  switch (d.format) {
    case Format::kNpy:
      return load(ctx, d.path, {.block_shape = options.block_shape});
    case Format::kHdf5:
      return read_hdf5(ctx, d.path, d.dataset, {.block_shape = options.block_shape});
    case Format::kCsv:
      return read_csv(ctx, d.path,
                      {.header = options.csv_header,
                       .delimiter = options.csv_delimiter,
                       .dtype = options.csv_dtype,
                       .block_shape = options.block_shape});
    case Format::kZarr:
      return read_zarr(ctx, d.path, {.block_shape = options.block_shape});
  }
  BadSpec(d.path, "unknown format");
}

}  // namespace

BlockArray read(const Context& ctx, const std::string& spec, const ReadOptions& options) {
  BlockArray x = ReadFormat(ctx, parse_dataset_spec(spec), options);
  ShowReadProgress(x, spec);
  return x;
}

void write(const BlockArray& x, const std::string& spec, const WriteOptions& options) {
  const DatasetSpec d = parse_dataset_spec(spec);
  ArrayOf(x, "write");  // ValueError for an empty handle, before anything is created
  if (d.format != Format::kHdf5 && (!options.attributes.empty() || !options.compression.empty())) {
    throw ValueError("write: attributes and compression are stored in HDF5 files only, not in '" +
                     spec + "' (" + format_name(d.format) + ")");
  }
  switch (d.format) {
    case Format::kNpy:
      return save(x, d.path);
    case Format::kHdf5:
      return write_hdf5(x, d.path, d.dataset,
                        {.compression = options.compression, .attributes = options.attributes});
    case Format::kCsv:
      return WriteCsv(x, d.path);
    case Format::kZarr:
      return write_zarr(x, d.path);
  }
}

}  // namespace nums::io
