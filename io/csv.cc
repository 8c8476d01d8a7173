// io::read_csv: the driver reads the first lines (how many fields), has the nodes count each
// byte range's lines, then submits a parse task per range and a gather per block of the result.

#include "io/csv.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "io/csv_lines.h"
#include "io/file_util.h"
#include "src/array_impl.h"

namespace nums::io {
namespace {

// Ranges of 1 to 32 MiB, about two per core.
constexpr int64_t kMinRangeBytes = 1 << 20;
constexpr int64_t kMaxRangeBytes = 32 << 20;

// The end of the line that starts at `from` (the position of its '\n', or `size`).
int64_t LineEnd(int fd, int64_t from, int64_t size, const std::string& path, std::string* line) {
  line->clear();
  char buf[4096];
  while (from < size) {
    const int64_t n = std::min<int64_t>(sizeof buf, size - from);
    PreadFully(fd, buf, n, from, path);
    const void* nl = std::memchr(buf, '\n', static_cast<size_t>(n));
    const int64_t take = nl ? static_cast<const char*>(nl) - buf : n;
    line->append(buf, static_cast<size_t>(take));
    from += take;
    if (nl) return from;
  }
  return size;
}

// The bytes a range task holds besides its output: its lines (a little past its end).
int64_t RangeScratch(const std::pair<int64_t, int64_t>& range) {
  return range.second - range.first + (64 << 10);
}

}  // namespace

BlockArray ReadCsv(const Context& context, const std::string& path, const CsvOptions& options,
                   int64_t range_bytes) {
  const char delim = options.delimiter;
  if (delim == '\n' || delim == '\r' || delim == '"' || delim == '\0') {
    throw ValueError("read_csv: '" + path + "': the delimiter cannot be a newline, '\"' or NUL");
  }
  if (is_complex(options.dtype)) {
    throw DTypeError("read_csv: '" + path +
                     "': CSV holds real numbers; dtype complex128 is not supported (use .npy, "
                     "HDF5 or zarr)");
  }
  for (int64_t c : options.columns) {
    if (c < 0) throw IndexError("read_csv: column " + std::to_string(c) + " < 0");
  }
  std::shared_ptr<Context::Impl> ctx = context.impl();
  FileSize(path);  // a missing path or a directory fails here, with its reason
  const std::vector<int64_t> identity = FileIdentity(path);
  const int64_t size = identity[2];

  // The header, then the first data line: how many fields every line has.
  FileDescriptor fd = OpenFile(path, O_RDONLY);
  std::string line;
  int64_t data_start = 0;
  if (options.header) data_start = std::min(size, LineEnd(fd.get(), 0, size, path, &line) + 1);
  int64_t width = -1;
  std::vector<std::string_view> fields;
  for (int64_t at = data_start; at < size && width < 0;) {
    const int64_t end = LineEnd(fd.get(), at, size, path, &line);
    if (!IsBlank(line)) {
      SplitFields(line, delim, fields);
      width = static_cast<int64_t>(fields.size());
    }
    at = end + 1;
  }
  fd.Close(path);
  std::vector<int64_t> columns = options.columns;
  if (width < 0) {  // no data: as many columns as asked for, or as the header names
    if (columns.empty() && options.header) {
      std::string header;
      FileDescriptor again = OpenFile(path, O_RDONLY);
      LineEnd(again.get(), 0, size, path, &header);
      SplitFields(header, delim, fields);
      columns.resize(fields.size());
      std::iota(columns.begin(), columns.end(), int64_t{0});
    }
    width = columns.empty() ? 0 : *std::max_element(columns.begin(), columns.end()) + 1;
  }
  if (columns.empty()) {
    columns.resize(static_cast<size_t>(width));
    for (int64_t c = 0; c < width; ++c) columns[static_cast<size_t>(c)] = c;
  }
  for (int64_t c : columns) {
    if (c >= width) {
      throw IndexError("read_csv: column " + std::to_string(c) + " of '" + path +
                       "', whose lines have " + std::to_string(width) + " fields");
    }
  }
  const auto ncols = static_cast<int64_t>(columns.size());

  // Count: one scan task per range, spread over the nodes.
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (int64_t s = data_start; s < size; s += range_bytes) {
    ranges.emplace_back(s, std::min(size, s + range_bytes));
  }
  auto range_args = [&](size_t i) {
    return std::vector<detail::TaskArg>{engine::Scalar{path}, detail::int_scalar(ranges[i].first),
                                        detail::int_scalar(ranges[i].second),
                                        detail::int_scalar(data_start), engine::Scalar{identity}};
  };
  std::vector<engine::ObjectRef> scans;
  {
    engine::SubmitBatch batch(*ctx->runtime);
    for (size_t i = 0; i < ranges.size(); ++i) {
      engine::TaskSpec spec{"io.csv.scan",
                            engine::Device::kCpu,
                            static_cast<int64_t>(i) % ctx->num_nodes,
                            range_args(i),
                            1,
                            "io.csv.scan '" + path + "' bytes " + std::to_string(ranges[i].first),
                            {engine::OutputSpec{DType::kInt64, {2}}}};
      spec.io = true;
      spec.scratch_bytes = RangeScratch(ranges[i]);
      scans.push_back(ctx->runtime->Submit(std::move(spec))[0]);
    }
    batch.Send();
  }
  const std::vector<engine::Block> counts = ctx->runtime->Get(scans);
  scans.clear();

  // Parse: one task per range with rows, its block of rows in `parts` at row `part_row`.
  std::vector<engine::ObjectRef> parts;
  std::vector<int64_t> part_row, part_rows;
  int64_t rows = 0, line_no = data_start > 0 ? 2 : 1;
  engine::SubmitBatch batch(*ctx->runtime);
  for (size_t i = 0; i < ranges.size(); ++i) {
    const int64_t lines = counts[i].data<int64_t>()[0], n = counts[i].data<int64_t>()[1];
    if (n > 0) {
      std::vector<detail::TaskArg> args = range_args(i);
      args.insert(args.end(),
                  {detail::int_scalar(line_no), detail::int_scalar(n), detail::int_scalar(width),
                   engine::Scalar{columns}, detail::int_scalar(static_cast<int64_t>(options.dtype)),
                   detail::int_scalar(static_cast<int64_t>(delim))});
      engine::TaskSpec spec{"io.csv.parse",
                            engine::Device::kCpu,
                            static_cast<int64_t>(i) % ctx->num_nodes,
                            std::move(args),
                            1,
                            "io.csv.parse '" + path + "' from line " + std::to_string(line_no),
                            {engine::OutputSpec{options.dtype, {n, ncols}}}};
      spec.io = true;
      spec.recomputable = true;
      spec.scratch_bytes = RangeScratch(ranges[i]);
      parts.push_back(ctx->runtime->Submit(std::move(spec))[0]);
      part_row.push_back(rows);
      part_rows.push_back(n);
    }
    rows += n;
    line_no += lines;
  }

  // Assemble: each block of the result gathers its rows from the parts that hold them.
  const Shape shape{rows, ncols};
  ArrayGrid grid(shape, detail::choose_block_shape(*ctx, shape, options.dtype, options.block_shape),
                 options.dtype);
  std::vector<engine::ObjectRef> blocks;
  detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
    const Shape off = grid.block_offset(e), bs = grid.block_shape_at(e);
    std::vector<detail::TaskArg> args;
    std::vector<int64_t> regions;  // per input: src_start, src_step, count, dst_start (2-d each)
    auto first = std::upper_bound(part_row.begin(), part_row.end(), off[0]) - part_row.begin() - 1;
    for (auto p = static_cast<size_t>(first); p < parts.size(); ++p) {
      const int64_t lo = std::max(off[0], part_row[p]);
      const int64_t hi = std::min(off[0] + bs[0], part_row[p] + part_rows[p]);
      if (lo >= hi) break;
      args.push_back(parts[p]);
      regions.insert(regions.end(),
                     {lo - part_row[p], off[1], 1, 1, hi - lo, bs[1], lo - off[0], 0});
    }
    args.push_back(detail::shape_scalar(bs));
    args.push_back(detail::int_scalar(static_cast<int64_t>(options.dtype)));
    args.push_back(engine::Scalar{regions});
    blocks.push_back(detail::submit(*ctx, "array.gather", std::move(args),
                                    detail::home_node(*ctx, grid, e),
                                    engine::OutputSpec{options.dtype, bs}));
  });
  batch.Send();
  return detail::make_array(std::move(ctx), std::move(grid), std::move(blocks));
}

BlockArray read_csv(const Context& ctx, const std::string& path, const CsvOptions& options) {
  const int64_t size = FileSize(path);
  const int64_t per_core = size / std::max<int64_t>(1, 2 * ctx.num_cores());
  return ReadCsv(ctx, path, options, std::clamp(per_core, kMinRangeBytes, kMaxRangeBytes));
}

}  // namespace nums::io
