// CSV block kernels: "io.csv.scan" counts the lines and rows a byte range owns, "io.csv.parse"
// turns them into a block.

#include <fcntl.h>

#include <charconv>
#include <cstring>
#include <limits>

#include "io/csv_lines.h"
#include "io/file_util.h"
#include "io/kernels.h"

namespace nums::io {

namespace {

constexpr int64_t kReadAhead = 64 * 1024;

// The first position at or after `from` just past a '\n' (or `size`).
int64_t NextLineStart(int fd, int64_t from, int64_t size, const std::string& path) {
  std::string buf;
  while (from < size) {
    const int64_t n = std::min(kReadAhead, size - from);
    buf.resize(static_cast<size_t>(n));
    PreadFully(fd, buf.data(), n, from, path);
    const void* nl = std::memchr(buf.data(), '\n', buf.size());
    if (nl != nullptr) return from + (static_cast<const char*>(nl) - buf.data()) + 1;
    from += n;
  }
  return size;
}

}  // namespace

std::string OwnedLines(int fd, int64_t start, int64_t end, int64_t data_start, int64_t size,
                       const std::string& path) {
  end = std::min(end, size);
  int64_t begin = start;
  if (start > data_start) {
    char before = 0;
    PreadFully(fd, &before, 1, start - 1, path);
    if (before != '\n') begin = NextLineStart(fd, start, size, path);
  }
  if (begin >= end) return {};
  std::string buf(static_cast<size_t>(end - begin), '\0');
  PreadFully(fd, buf.data(), end - begin, begin, path);
  // The last line owned here may run past `end`: read on to its '\n'.
  int64_t at = end;
  while (buf.back() != '\n' && at < size) {
    const int64_t n = std::min(kReadAhead, size - at);
    std::string more(static_cast<size_t>(n), '\0');
    PreadFully(fd, more.data(), n, at, path);
    const void* nl = std::memchr(more.data(), '\n', more.size());
    const size_t take =
        nl ? static_cast<size_t>(static_cast<const char*>(nl) - more.data()) + 1 : more.size();
    buf.append(more, 0, take);
    at += n;
  }
  return buf;
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

void SplitFields(std::string_view line, char delimiter, std::vector<std::string_view>& fields) {
  fields.clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const char* trim = delimiter == '\t' ? " " : delimiter == ' ' ? "\t" : " \t";
  size_t pos = 0;
  while (true) {
    const size_t next = line.find(delimiter, pos);
    std::string_view f = line.substr(pos, next == std::string_view::npos ? line.npos : next - pos);
    const size_t a = f.find_first_not_of(trim);
    f = a == std::string_view::npos ? std::string_view() : f.substr(a);
    const size_t b = f.find_last_not_of(trim);
    f = b == std::string_view::npos ? std::string_view() : f.substr(0, b + 1);
    if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
    fields.push_back(f);
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
}

namespace {

using engine::Block;
using engine::KernelContext;

// Calls f(line) for each line of `buf` (lines end at '\n' or at the end of `buf`).
template <typename F>
void ForEachLine(std::string_view buf, F&& f) {
  size_t pos = 0;
  while (pos < buf.size()) {
    size_t nl = buf.find('\n', pos);
    if (nl == std::string_view::npos) nl = buf.size();
    f(buf.substr(pos, nl - pos));
    pos = nl + 1;
  }
}

// Scalars: path, start, end, data start, file identity. Output: int64 [lines, rows]: the lines
// that start in the range, and those of them that are not blank.
std::vector<Block> ScanCsvRange(const KernelContext& k) {
  const auto& path = k.scalar<std::string>(0);
  const auto& identity = k.scalar<std::vector<int64_t>>(4);
  FileDescriptor fd = OpenFile(path, O_RDONLY);
  CheckFileIdentity(fd.get(), identity, path);
  const std::string buf = OwnedLines(fd.get(), k.scalar<int64_t>(1), k.scalar<int64_t>(2),
                                     k.scalar<int64_t>(3), identity[2], path);
  int64_t lines = 0, rows = 0;
  ForEachLine(buf, [&](std::string_view line) {
    ++lines;
    rows += IsBlank(line) ? 0 : 1;
  });
  Block out = Block::Allocate(DType::kInt64, {2});
  out.data<int64_t>()[0] = lines;
  out.data<int64_t>()[1] = rows;
  return {out};
}

template <typename T>
bool ParseField(std::string_view f, T& out) {
  if constexpr (std::is_same_v<T, std::complex<double>>) {
    throw DTypeError("read_csv: complex128 columns are not supported");  // refused before
  } else if constexpr (std::is_same_v<T, half>) {
    // Read as double and rounded once, as NumPy's float16(text) does.
    double d = 0;
    if (!ParseField(f, d)) return false;
    out = half(d);
    return true;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (f == "1" || f == "True" || f == "true" || f == "TRUE") {
      out = true;
    } else if (f == "0" || f == "False" || f == "false" || f == "FALSE") {
      out = false;
    } else {
      return false;
    }
    return true;
  } else {
    // from_chars takes no leading '+', which NumPy and most writers accept.
    if (f.size() > 1 && f[0] == '+' && f[1] != '-') f.remove_prefix(1);
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), out);
    return ec == std::errc() && end == f.data() + f.size();
  }
}

// Scalars: path, start, end, data start, file identity, first line number, rows, fields per
// line, columns (which fields, in order), dtype code, delimiter. Output: the (rows, columns)
// block. Throws ValueError naming the file, line and column of a bad field.
std::vector<Block> ParseCsvRange(const KernelContext& k) {
  const auto& path = k.scalar<std::string>(0);
  const auto& identity = k.scalar<std::vector<int64_t>>(4);
  const int64_t first_line = k.scalar<int64_t>(5);
  const int64_t rows = k.scalar<int64_t>(6);
  const int64_t width = k.scalar<int64_t>(7);
  const auto& columns = k.scalar<std::vector<int64_t>>(8);
  const DType dtype = dtype_from_code(k.scalar<int64_t>(9));
  const char delimiter = static_cast<char>(k.scalar<int64_t>(10));
  const auto ncols = static_cast<int64_t>(columns.size());
  FileDescriptor fd = OpenFile(path, O_RDONLY);
  CheckFileIdentity(fd.get(), identity, path);
  const std::string buf = OwnedLines(fd.get(), k.scalar<int64_t>(1), k.scalar<int64_t>(2),
                                     k.scalar<int64_t>(3), identity[2], path);
  Block out = Block::Allocate(dtype, {rows, ncols});
  std::vector<std::string_view> fields;
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* dst = out.data<T>();
    int64_t line_no = first_line - 1, row = 0;
    ForEachLine(buf, [&](std::string_view line) {
      ++line_no;
      if (IsBlank(line)) return;
      if (row >= rows) {
        throw IOError("'" + path + "' changed while it was read: more rows than counted");
      }
      SplitFields(line, delimiter, fields);
      if (static_cast<int64_t>(fields.size()) != width) {
        throw ValueError("'" + path + "', line " + std::to_string(line_no) + ": expected " +
                         std::to_string(width) + " fields, found " + std::to_string(fields.size()));
      }
      for (int64_t c = 0; c < ncols; ++c) {
        const std::string_view f = fields[static_cast<size_t>(columns[static_cast<size_t>(c)])];
        if (!ParseField(f, dst[row * ncols + c])) {
          throw ValueError(
              "'" + path + "', line " + std::to_string(line_no) + ", column " +
              std::to_string(columns[static_cast<size_t>(c)] + 1) + ": cannot parse " +
              (f.empty() ? std::string("an empty field") : "'" + std::string(f) + "'") + " as " +
              std::string(dtype_name(dtype)));
        }
      }
      ++row;
    });
    if (row != rows) {
      throw IOError("'" + path + "' changed while it was read: fewer rows than counted");
    }
  });
  return {out};
}

}  // namespace

void RegisterCsvKernels(engine::KernelRegistry& registry) {
  registry.Register("io.csv.scan", engine::Device::kCpu, ScanCsvRange);
  registry.Register("io.csv.parse", engine::Device::kCpu, ParseCsvRange);
}

}  // namespace nums::io
