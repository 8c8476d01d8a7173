#include "io/zarr_format.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

#include "nums/errors.hpp"

namespace nums::io {
namespace {

using json = nlohmann::json;

[[noreturn]] void Bad(const std::string& store, const std::string& what) {
  throw IOError("zarr store '" + store + "': .zarray " + what);
}

engine::Shape ShapeField(const json& j, const char* key, const std::string& store) {
  if (!j.contains(key) || !j[key].is_array())
    Bad(store, std::string("has no list \"") + key + "\"");
  engine::Shape s;
  for (const json& v : j[key]) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0) {
      Bad(store, std::string("\"") + key + "\" " + j[key].dump() + " is not a list of sizes");
    }
    s.push_back(v.get<int64_t>());
  }
  return s;
}

// NumPy's type strings of the dtypes, in the order of their codes.
constexpr const char* kDescr[] = {"|b1", "<i4", "<i8", "<f4", "<f8", "|i1", "<i2",
                                  "|u1", "<u2", "<u4", "<u8", "<f2", "<c16"};
static_assert(std::size(kDescr) == static_cast<size_t>(kLastDType) + 1);

// "<f8", ">i4", "|b1": the dtype and whether its bytes are big endian.
void ParseDType(const json& j, const std::string& store, ZarrMeta& m) {
  const std::string text = j.is_string() ? j.get<std::string>() : j.dump();
  auto unsupported = [&] {
    throw DTypeError(
        "zarr store '" + store + "': dtype " + text +
        " is not supported (f2 f4 f8 c16 i1 i2 i4 i8 u1 u2 u4 u8 b1, either byte order)");
  };
  if (!j.is_string() || text.size() < 3) unsupported();
  const char order = text[0];
  const std::string kind = text.substr(1);
  for (size_t code = 0; code < std::size(kDescr); ++code) {
    if (kind != kDescr[code] + 1) continue;
    const auto dtype = static_cast<DType>(code);
    // One-byte types have no byte order ('|'), but '<' and '>' are read as well.
    if (order != '<' && order != '>' && !(order == '|' && itemsize(dtype) == 1)) unsupported();
    m.dtype = dtype;
    m.big_endian = order == '>' && itemsize(dtype) > 1;
    return;
  }
  unsupported();
}

template <typename T>
std::string ElementBytes(T v) {
  std::string out(sizeof(T), '\0');
  std::memcpy(out.data(), &v, sizeof(T));
  return out;
}

std::string ParseFill(const json& j, DType dtype, const std::string& store) {
  auto bad = [&]() -> std::string {
    Bad(store, "fill_value " + j.dump() + " does not fit dtype " + std::string(dtype_name(dtype)));
  };
  if (j.is_null()) return std::string(static_cast<size_t>(itemsize(dtype)), '\0');
  if (is_complex(dtype)) {
    // zarr writes a complex fill as [real, imag]; a plain number is read as its real part.
    if (j.is_array() && j.size() == 2) {
      return ParseFill(j[0], DType::kFloat64, store) + ParseFill(j[1], DType::kFloat64, store);
    }
    return ParseFill(j, DType::kFloat64, store) + std::string(8, '\0');
  }
  if (dtype == DType::kBool) {
    if (j.is_boolean()) return ElementBytes(j.get<bool>());
    if (j.is_number_integer() && (j.get<int64_t>() == 0 || j.get<int64_t>() == 1)) {
      return ElementBytes(j.get<int64_t>() == 1);
    }
    return bad();
  }
  if (is_floating(dtype)) {
    double v = 0;
    if (j.is_number()) {
      v = j.get<double>();
    } else if (j.is_string() && j.get<std::string>() == "NaN") {
      v = std::numeric_limits<double>::quiet_NaN();
    } else if (j.is_string() && j.get<std::string>() == "Infinity") {
      v = std::numeric_limits<double>::infinity();
    } else if (j.is_string() && j.get<std::string>() == "-Infinity") {
      v = -std::numeric_limits<double>::infinity();
    } else {
      return bad();
    }
    return dispatch_all(dtype, [&](auto t) { return ElementBytes(convert_value<decltype(t)>(v)); });
  }
  if (dtype == DType::kUInt64 && j.is_number_unsigned()) return ElementBytes(j.get<uint64_t>());
  int64_t v = 0;
  if (j.is_number_integer() && !(j.is_number_unsigned() && j.get<uint64_t>() > INT64_MAX)) {
    v = j.get<int64_t>();
  } else if (j.is_number_float() && std::trunc(j.get<double>()) == j.get<double>() &&
             std::abs(j.get<double>()) < 9.2e18) {
    v = static_cast<int64_t>(j.get<double>());
  } else {
    return bad();
  }
  return dispatch(dtype, [&](auto t) -> std::string {
    using T = decltype(t);
    if (v < 0 && std::is_unsigned_v<T>) return bad();
    if (v > 0 && static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      return bad();
    }
    if (v < 0 && v < static_cast<int64_t>(std::numeric_limits<T>::min())) return bad();
    return ElementBytes(static_cast<T>(v));
  });
}

json FillJson(DType dtype, const std::string& fill) {
  return dispatch_all(dtype, [&](auto t) -> json {
    using T = decltype(t);
    if constexpr (std::is_same_v<T, std::complex<double>>) {  // [real, imag], as zarr writes it
      return json::array({FillJson(DType::kFloat64, fill.substr(0, 8)),
                          FillJson(DType::kFloat64, fill.substr(8, 8))});
    } else {
      T stored;
      std::memcpy(&stored, fill.data(), sizeof(T));
      // float16 as its float value (exact).
      const auto v = [&] {
        if constexpr (std::is_same_v<T, half>) {
          return static_cast<float>(stored);
        } else {
          return stored;
        }
      }();
      if constexpr (std::is_floating_point_v<std::decay_t<decltype(v)>>) {
        if (std::isnan(v)) return "NaN";
        if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
        return static_cast<double>(v);
      } else {
        return v;
      }
    }
  });
}

ZarrCodec ParseCodec(const json& j, const std::string& store) {
  if (j.is_null()) return {};
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) {
    Bad(store, "compressor " + j.dump() + " has no id");
  }
  const std::string id = j["id"].get<std::string>();
  auto integer = [&](const char* key, int64_t fallback) {
    if (!j.contains(key)) return fallback;
    if (!j[key].is_number_integer()) Bad(store, "compressor " + j.dump() + ": bad " + key);
    return j[key].get<int64_t>();
  };
  ZarrCodec c;
  if (id == "zlib" || id == "gzip" || id == "zstd") {
    c = {id, integer("level", 1), "", 0, 0};
  } else if (id == "lz4") {
    c = {id, integer("acceleration", 1), "", 0, 0};
  } else if (id == "blosc") {
    c = {id, integer("clevel", 5), "lz4", integer("shuffle", 1), integer("blocksize", 0)};
    if (j.contains("cname")) {
      if (!j["cname"].is_string()) Bad(store, "compressor " + j.dump() + ": bad cname");
      c.cname = j["cname"].get<std::string>();
    }
  } else {
    Bad(store,
        "compressor " + j.dump() + " is not supported (null, zlib, gzip, lz4, zstd or blosc)");
  }
  return c;
}

}  // namespace

int64_t ZarrMeta::ChunkBytes() const { return engine::ShapeSize(chunks) * itemsize(dtype); }

ZarrMeta ParseZarray(const std::string& text, const std::string& store) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    Bad(store, std::string("is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) Bad(store, "is not a JSON object");
  if (!j.contains("zarr_format") || j["zarr_format"] != 2) {
    Bad(store, "has zarr_format " + (j.contains("zarr_format") ? j["zarr_format"].dump() : "none") +
                   " (nums reads zarr v2)");
  }
  ZarrMeta m;
  m.shape = ShapeField(j, "shape", store);
  m.chunks = ShapeField(j, "chunks", store);
  if (m.chunks.size() != m.shape.size()) {
    Bad(store,
        "chunks " + j["chunks"].dump() + " do not match the rank of shape " + j["shape"].dump());
  }
  for (int64_t c : m.chunks) {
    if (c < 1) Bad(store, "chunks " + j["chunks"].dump() + " must be >= 1");
  }
  if (!j.contains("dtype")) Bad(store, "has no dtype");
  ParseDType(j["dtype"], store, m);
  try {
    if (m.ChunkBytes() > (int64_t{1} << 40)) throw ValueError("");
  } catch (const ValueError&) {  // ShapeSize overflowed, or a chunk of a TiB
    Bad(store, "chunks " + j["chunks"].dump() + " are too large");
  }
  const json order = j.value("order", json("C"));
  if (order != "C" && order != "F") Bad(store, "order " + order.dump() + " is not \"C\" or \"F\"");
  m.fortran = order == "F";
  m.fill = ParseFill(j.value("fill_value", json()), m.dtype, store);
  if (j.contains("filters") && !j["filters"].is_null() &&
      !(j["filters"].is_array() && j["filters"].empty())) {
    Bad(store, "filters " + j["filters"].dump() + " are not supported");
  }
  m.codec = ParseCodec(j.value("compressor", json()), store);
  const json sep = j.value("dimension_separator", json("."));
  if (sep != "." && sep != "/") {
    Bad(store, "dimension_separator " + sep.dump() + " is not \".\" or \"/\"");
  }
  m.separator = sep.get<std::string>()[0];
  return m;
}

std::string FormatZarray(const ZarrMeta& m) {
  json j;  // keys sorted, indent 4: as zarr-python writes it
  j["zarr_format"] = 2;
  j["shape"] = m.shape;
  j["chunks"] = m.chunks;
  j["dtype"] = kDescr[static_cast<int>(m.dtype)];
  j["order"] = m.fortran ? "F" : "C";
  j["fill_value"] = FillJson(m.dtype, m.fill);
  j["filters"] = nullptr;
  j["dimension_separator"] = std::string(1, m.separator);
  const ZarrCodec& c = m.codec;
  if (c.id.empty()) {
    j["compressor"] = nullptr;
  } else if (c.id == "lz4") {
    j["compressor"] = {{"id", c.id}, {"acceleration", c.level}};
  } else if (c.id == "blosc") {
    j["compressor"] = {{"id", c.id},
                       {"cname", c.cname},
                       {"clevel", c.level},
                       {"shuffle", c.shuffle},
                       {"blocksize", c.blocksize}};
  } else {
    j["compressor"] = {{"id", c.id}, {"level", c.level}};
  }
  return j.dump(4) + "\n";
}

std::string FillBytes(DType dtype, double value) {
  return dispatch_all(dtype, [&](auto t) -> std::string {
    using T = decltype(t);
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, half> ||
                  std::is_same_v<T, std::complex<double>>) {
      return ElementBytes(convert_value<T>(value));
    } else if constexpr (std::is_same_v<T, bool>) {
      if (value != 0 && value != 1) {
        throw ValueError("fill_value " + std::to_string(value) + " does not fit dtype bool");
      }
      return ElementBytes(value == 1);
    } else {
      const bool fits = std::trunc(value) == value &&
                        value >= static_cast<double>(std::numeric_limits<T>::min()) &&
                        value < static_cast<double>(std::numeric_limits<T>::max()) + 1.0;
      if (!fits) {
        throw ValueError("fill_value " + std::to_string(value) + " does not fit dtype " +
                         std::string(dtype_name(dtype)));
      }
      return ElementBytes(static_cast<T>(value));
    }
  });
}

std::string ChunkKey(const engine::Shape& index, char separator) {
  if (index.empty()) return "0";
  std::string key;
  for (size_t d = 0; d < index.size(); ++d) {
    if (d > 0) key += separator;
    key += std::to_string(index[d]);
  }
  return key;
}

}  // namespace nums::io
