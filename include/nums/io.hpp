#pragma once
/// Reading and writing arrays in files: NumPy's `.npy`, HDF5, zarr v2 and CSV.
///
/// Reads return at once: the driver reads only the file's metadata (shape, dtype, chunking) and
/// each block is read by a task on the node that owns it. Writes block until the file is
/// complete: each node writes its own blocks into a temporary file beside `path`
/// (`path + ".nums-tmp-<random>"`), and once every block is written the driver renames it over
/// `path`, so a reader never sees a half-written file. On any failure the temporary file is
/// removed and an existing file at `path` is left as it was.
///
/// On a cluster of several machines, `path` must name the same file on the driver and on every
/// node (a shared filesystem), or be an S3 URL.
///
/// S3: where a function says so, `path` may be `s3://bucket/key`. Each process (the driver and
/// every node) finds its credentials, region and endpoint as the AWS tools do: AWS_ACCESS_KEY_ID /
/// AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE with ~/.aws/credentials and
/// ~/.aws/config (or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE), AWS_REGION or
/// AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible server
/// (path-style addressing), AWS_MAX_ATTEMPTS (default 5); none of it travels in tasks. Requests
/// are retried with exponential backoff and jitter on network errors, timeouts, 5xx and
/// throttling; errors are IOErrors naming the bucket, key, HTTP status and S3 error code.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "nums/block_array.hpp"
#include "nums/context.hpp"

namespace nums::io {

/// Options of io::load.
struct LoadOptions {
  /// Block shape of the result; empty: the default rule (see default_block_shape).
  Shape block_shape{};
};

/// Writes `x` to `path` as a NEP 1 `.npy` file (format 1.0, or 2.0 when the header needs it),
/// C order, little endian, with NumPy's descr (`<f8 <f4 <i8 <i4 |b1`). 0-d and empty arrays are
/// written as NumPy writes them. Replaces an existing file only once the new one is complete.
/// `path` may be an S3 URL: the object is a multipart upload whose parts (row blocks of at least
/// 5 MiB, regrouped from `x`'s blocks when needed) are sent by the nodes that hold them; it
/// appears only when every part is in, and the upload is aborted on failure.
/// Throws IOError naming the file when it cannot be created, written or renamed (the old file
/// is then left intact and no temporary file remains), and rethrows a failed block's error.
void save(const BlockArray& x, const std::string& path);

/// Reads the `.npy` file at `path` (format 1.0, 2.0 or 3.0; C or Fortran order; little or big
/// endian) into an array of the context's cluster. Returns at once; each block is read by its
/// node (from S3 with ranged GETs, checked against the object's ETag). Throws IOError naming the
/// file for a missing or unreadable file, a bad header, or a file shorter than its header says
/// (with the expected and actual bytes); DTypeError naming the descr for a dtype other than
/// float64, float32, int64, int32 or bool; ShapeError for a block_shape of another rank.
BlockArray load(const Context& ctx, const std::string& path, const LoadOptions& options = {});

/// An attribute's value (HDF5 or zarr): a float, an integer, a string, or a 1-d array of floats.
using AttributeValue = std::variant<double, int64_t, std::string, std::vector<double>>;
/// A dataset's or zarr array's attributes by name.
using Attributes = std::map<std::string, AttributeValue>;

/// Options of io::read_hdf5.
struct Hdf5ReadOptions {
  /// Block shape of the result; empty: the default rule (see default_block_shape).
  Shape block_shape{};
};

/// Options of io::write_hdf5.
struct Hdf5WriteOptions {
  /// Chunk shape of the dataset; empty: the array's block shape, halved along its largest
  /// dimension while a chunk would reach HDF5's 4 GiB limit. 0-d and empty arrays are stored
  /// contiguously (HDF5 cannot chunk them) and then take no chunks or compression.
  Shape chunks{};
  /// "" (none) or "gzip".
  std::string compression{};
  /// gzip level, 0 to 9.
  int64_t compression_level = 4;
  /// Attributes attached to the dataset.
  Attributes attributes{};
};

/// Reads dataset `dataset` (e.g. "/X" or "group/X") of the HDF5 file at `path`. Returns at once;
/// each block is read as a hyperslab by its node. `path` may be an S3 URL: metadata and
/// compressed data go through HDF5's read-only S3 driver (which cannot sign with a session
/// token), unfiltered data through ranged GETs checked against the object's ETag. Types map as h5py
/// maps them: 64- and 32-bit floats and signed integers (either byte order), and h5py's bool (an
/// enum of int8 with FALSE = 0, TRUE = 1). Throws IOError naming the file and dataset when either
/// is missing or the name is not a dataset; DTypeError naming the HDF5 type for any other type;
/// ShapeError for a block_shape of another rank.
BlockArray read_hdf5(const Context& ctx, const std::string& path, const std::string& dataset,
                     const Hdf5ReadOptions& options = {});

/// Writes `x` as dataset `dataset` of a new HDF5 file at `path` (intermediate groups are
/// created), chunked as `options.chunks` says, with its attributes; each node writes its blocks.
/// Bool arrays are stored as h5py's bool enum, so h5py reads them as bool. The file replaces an
/// existing one only once complete. `path` must be local (IOError for an S3 URL: HDF5 has no S3
/// writer). Throws ValueError for bad chunks, compression or dataset
/// name (before anything is written), IOError naming the file when it cannot be written (the
/// old file is left intact and no temporary file remains), and rethrows a failed block's error.
void write_hdf5(const BlockArray& x, const std::string& path, const std::string& dataset,
                const Hdf5WriteOptions& options = {});

/// The attributes of dataset `dataset` of the HDF5 file at `path`: scalar floats and integers,
/// strings (fixed or variable length) and 1-d float arrays. Throws IOError naming the file and
/// dataset as read_hdf5 does, and DTypeError naming the attribute for any other kind of value.
Attributes read_hdf5_attributes(const std::string& path, const std::string& dataset);

/// Options of io::read_zarr.
struct ZarrReadOptions {
  /// Block shape of the result; empty: one chunk per block (the chunk clipped to the array).
  /// Chunks under 1 MiB are grouped: as many whole chunks per block along each axis as the
  /// default rule's block holds (see default_block_shape). Chunks over 256 MiB give the default
  /// rule's blocks, each decompressing the chunks it overlaps.
  Shape block_shape{};
};

/// Options of io::write_zarr.
struct ZarrWriteOptions {
  /// Chunk shape; empty: the array's block shape (zero-length dimensions: 1). Blocks are
  /// rechunked to it first when they differ, so each node writes whole chunks.
  Shape chunks{};
  /// "" (none), "zlib", "gzip", "lz4", "zstd" or "blosc" (zarr-python's default, as here).
  std::string compressor = "blosc";
  /// zlib, gzip and zstd level, lz4 acceleration or blosc clevel; empty: numcodecs' default
  /// (1, 1, 1, 1 and 5).
  std::optional<int64_t> level{};
  /// blosc only: its inner compressor ("lz4", "lz4hc", "blosclz", "zlib", "zstd").
  std::string blosc_cname = "lz4";
  /// blosc only: 0 none, 1 byte shuffle, 2 bit shuffle, -1 bit for 1-byte items, else byte.
  int64_t blosc_shuffle = 1;
  /// 'C' or 'F': the order of the elements inside each chunk.
  char order = 'C';
  /// The value of the padding of edge chunks and of chunks a reader finds missing; empty: 0
  /// (false). Integers must be exact (at most 2^53 in magnitude), bools 0 or 1.
  std::optional<double> fill_value{};
  /// '.' ("1.0") or '/' ("1/0", nested directories): how chunk keys join their indices.
  char dimension_separator = '.';
  /// Stored as `.zattrs` (finite numbers only: JSON has no NaN).
  Attributes attributes{};
};

/// Reads the zarr v2 array at `store`: a directory or an `s3://bucket/prefix` URL. Returns at
/// once; the driver reads `.zarray` and each block is read by its node, which decompresses the
/// chunks overlapping it. Missing chunks read as fill_value (0 for null). Reads dtypes
/// <f8 <f4 <i8 <i4 |b1 and their big-endian forms, C and F order, dimension separators '.' and
/// '/', 0-d and empty arrays, and the compressors null, zlib, gzip, lz4, zstd and blosc. A block
/// read again later (recomputed after it was dropped) reads the store again: a directory store
/// replaced since (a new `.zarray`, as write_zarr makes) raises IOError instead; chunks changed
/// in place are not detected. Throws IOError naming the store when it or its `.zarray` is missing,
/// for bad metadata, filters or another compressor; DTypeError naming the store and dtype for other
/// dtypes; ShapeError for a block_shape of another rank. A corrupt chunk (bad compressed data, or
/// data of another size) raises IOError naming the store, the chunk key and the block from get()
/// or an operation that needs the block.
BlockArray read_zarr(const Context& ctx, const std::string& store,
                     const ZarrReadOptions& options = {});

/// Writes `x` as a zarr v2 array at `store` (a directory or an `s3://bucket/prefix` URL) that
/// zarr-python 2 reads: `.zarray` (little-endian dtype), `.zattrs`, and every chunk, edge chunks
/// full size and padded with fill_value; each node compresses and writes the chunks of its
/// blocks. A directory store is written as `store + ".nums-tmp-<random>"` beside it, metadata
/// last, then swapped into place: an existing store (directory or file) at the path is replaced
/// only once the new one is complete, and on any failure the temporary directory is removed and
/// the old store is left as it was. An S3 prefix has no rename: its old `.zarray` is removed
/// first, chunks are written in place and `.zarray` last, so a failed write leaves a prefix
/// without `.zarray` (chunk keys outside the new grid may remain; readers ignore them). Throws
/// ValueError for bad chunks, compressor, level, order, fill value or attributes (before
/// anything is written), ShapeError for chunks of another rank, IOError naming the store when
/// it cannot be written, and rethrows a failed block's error.
void write_zarr(const BlockArray& x, const std::string& store,
                const ZarrWriteOptions& options = {});

/// The attributes (`.zattrs`) of the zarr array at `store`: numbers (integers as int64_t),
/// strings and lists of numbers; empty when it has no `.zattrs`. Throws IOError naming the store
/// when it is missing or `.zattrs` is not a JSON object, and DTypeError naming the attribute for
/// any other kind of value.
Attributes read_zarr_attributes(const std::string& store);

/// Options of io::read_csv.
struct CsvOptions {
  /// The first line names the columns: it is skipped.
  bool header = false;
  /// The field separator (not '\n', '\r' or '"').
  char delimiter = ',';
  /// The element type of the result.
  DType dtype = float64;
  /// Which fields (0-based) become the result's columns, in this order; empty: all.
  std::vector<int64_t> columns{};
  /// Block shape of the (rows, columns) result; empty: the default rule.
  Shape block_shape{};
};

/// Reads the CSV file at `path` into a 2-d array of `dtype` (rows, columns). The file is cut into
/// byte ranges at line boundaries; nodes count and parse the ranges in parallel. Waits for the
/// line counts (the shape depends on them); the values are parsed in the background. Blank lines
/// are skipped; fields are trimmed of spaces and tabs and of double quotes around them; floats
/// take NumPy's spellings ("1e-3", "nan", "inf"), bools "True"/"False"/"true"/"false"/"1"/"0".
/// Throws IOError naming the file when it cannot be read, IndexError for a column past the first
/// data line's fields, ValueError for a bad delimiter; a field that does not parse, or a line
/// with another number of fields, raises ValueError naming the file, line and column (1-based)
/// from get() or from an operation that needs it.
BlockArray read_csv(const Context& ctx, const std::string& path, const CsvOptions& options = {});

}  // namespace nums::io

// ---------------------------------------------------------------------------------------------
// Dataset specs: one string names a dataset in any of the formats above.

namespace nums::io {

/// The storage formats a dataset spec can name.
enum class Format { kNpy, kHdf5, kCsv, kZarr };

/// "npy", "hdf5", "csv" or "zarr".
std::string format_name(Format format);

/// A dataset spec taken apart: what `read` and `write` do with the string.
///
/// Grammar (extensions match in any case):
/// - `PATH.npy`, `s3://BUCKET/KEY.npy`: a NumPy `.npy` file (load / save).
/// - `PATH.h5:DATASET`, `PATH.hdf5:DATASET`: dataset DATASET (`/X`, `group/X`) of an HDF5 file
///   (read_hdf5 / write_hdf5). PATH is everything before the first `.h5:` / `.hdf5:`. A spec
///   that ends in `.h5` / `.hdf5` names no dataset: ValueError saying to add `:/name`.
/// - `PATH.csv`: a CSV file (read_csv; written by the driver, see `write`).
/// - `zarr://STORE`, `PATH.zarr`, `s3://BUCKET/PREFIX.zarr`: a zarr v2 store (a trailing '/' is
///   allowed).
/// HDF5 and CSV are local files only (an `s3://` spec of either is a ValueError).
struct DatasetSpec {
  Format format = Format::kNpy;
  /// The file, `s3://` URL or zarr store (without the `zarr://` prefix).
  std::string path;
  /// HDF5 only: the dataset inside the file, as given after the ':'.
  std::string dataset;
};

/// Parses `spec` by the grammar above. Throws ValueError naming the spec and listing the
/// accepted forms for anything else (an empty spec, an unknown extension, an HDF5 file without a
/// dataset or with an empty one, `zarr://` without a store, HDF5 or CSV on S3).
DatasetSpec parse_dataset_spec(const std::string& spec);

/// Options of io::read. Every format takes the block shape; the csv_* fields apply to CSV specs
/// only and are ignored for the others.
struct ReadOptions {
  /// Block shape of the result; empty: the default rule (see default_block_shape).
  Shape block_shape{};
  /// CSV: the first line names the columns and is skipped.
  bool csv_header = false;
  /// CSV: the field separator.
  char csv_delimiter = ',';
  /// CSV: the element type of the result.
  DType csv_dtype = float64;
};

/// Options of io::write. The HDF5 fields are a ValueError for any other format (they would be
/// lost).
struct WriteOptions {
  /// HDF5: attributes attached to the dataset.
  Attributes attributes{};
  /// HDF5: "" (none) or "gzip".
  std::string compression{};
};

/// Reads the dataset `spec` names (see DatasetSpec) with `load`, `read_hdf5`, `read_csv` or the
/// zarr reader, passing `options.block_shape` to each. Returns at once as those do (CSV waits
/// for its line counts), except that a read of 256 MiB or more draws a nums::ProgressBar where
/// one is shown (stderr a terminal, or NUMS_PROGRESS=always) and returns once its blocks are in
/// their nodes' memory. A CSV file is always read as a 2-d (rows, columns) array. Throws
/// ValueError for a spec that does not parse; the reader's errors otherwise (IOError naming the
/// file for a missing one); IOError "zarr support is not available in this build" for zarr specs
/// in builds without the zarr reader.
BlockArray read(const Context& ctx, const std::string& spec, const ReadOptions& options = {});

/// Writes `x` to the dataset `spec` names with `save`, `write_hdf5` or the zarr writer; every
/// node writes its own blocks and the result replaces an existing file only once complete.
/// HDF5: the file is created anew holding this one dataset (an existing file at the path is
/// replaced, whatever datasets it held). CSV: 0-d, 1-d (one value per line) or 2-d arrays,
/// written by the driver one row block at a time (meant for small results such as
/// coefficients; use .npy or HDF5 for large arrays), floats with 17 significant digits (9 for
/// float32) so that read gives back the same values, bools as 1 / 0; the file appears by rename
/// once complete. Throws ValueError for a spec that does not parse, for HDF5 options with
/// another format and for a CSV of more than 2 dimensions; the writer's errors otherwise.
void write(const BlockArray& x, const std::string& spec, const WriteOptions& options = {});

}  // namespace nums::io
