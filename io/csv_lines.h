#pragma once
// CSV lines and fields, shared by the driver (which reads the first lines) and the range kernels.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nums::io {

/// The bytes of the lines that start in [start, end) of the file (start >= data_start), from the
/// first such line through the end of the last (its '\n' included); empty when none starts there.
std::string OwnedLines(int fd, int64_t start, int64_t end, int64_t data_start, int64_t size,
                       const std::string& path);

/// Splits `line` (no '\n') at `delimiter` into trimmed fields: spaces and tabs around a field
/// and a trailing '\r' go, as do double quotes around a whole field.
void SplitFields(std::string_view line, char delimiter, std::vector<std::string_view>& fields);

/// Whether `line` holds nothing but spaces, tabs and '\r'.
bool IsBlank(std::string_view line);

}  // namespace nums::io
