#pragma once
// CSV reading, internals: the file is cut into byte ranges; a range owns the lines that start in
// it. One task per range counts its lines and rows, the driver sums them, then one task per
// range parses its rows into a block, and the row blocks are gathered into the array's blocks.

#include <cstdint>
#include <string>

#include "nums/io.hpp"

namespace nums::io {

/// read_csv with ranges of `range_bytes` (tests use tiny ones to put many boundaries in a file).
BlockArray ReadCsv(const Context& ctx, const std::string& path, const CsvOptions& options,
                   int64_t range_bytes);

}  // namespace nums::io
