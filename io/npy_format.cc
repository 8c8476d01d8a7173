#include "io/npy_format.h"

#include <bit>
#include <cctype>
#include <limits>
#include <map>
#include <vector>

#include "nums/errors.hpp"

namespace nums::io {
namespace {

static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");

constexpr std::string_view kMagic = "\x93NUMPY";

// The subset of Python literals NumPy writes into a header: a dict of strings, booleans, ints
// and tuples (lists, for structured descrs, which we only report).
struct PyValue {
  enum class Kind { kString, kBool, kInt, kTuple, kDict, kNone } kind = Kind::kNone;
  std::string str;
  int64_t num = 0;
  bool flag = false;
  std::vector<PyValue> items;
  std::map<std::string, PyValue> dict;
  std::string_view text;  // the literal as written, for messages
};

class LiteralParser {
 public:
  LiteralParser(std::string_view s, const std::string& file) : s_(s), file_(file) {}

  PyValue ParseAll() {
    PyValue v = Value();
    SkipSpace();
    if (pos_ != s_.size()) Fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void Fail(const std::string& why) const {
    throw IOError("'" + file_ + "' is not a valid .npy file: header dict " + why + " at offset " +
                  std::to_string(pos_) + " of \"" + std::string(s_) + "\"");
  }
  void SkipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool Eat(char c) {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void Expect(char c) {
    if (!Eat(c)) Fail(std::string("expected '") + c + "'");
  }

  PyValue Value() {
    SkipSpace();
    if (pos_ >= s_.size()) Fail("ends early");
    const size_t start = pos_;
    PyValue v;
    const char c = s_[pos_];
    if (c == '{') {
      v = Dict();
    } else if (c == '(' || c == '[') {
      v = Sequence(c == '(' ? ')' : ']');
    } else if (c == '\'' || c == '"') {
      v.kind = PyValue::Kind::kString;
      v.str = String();
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      v.kind = PyValue::Kind::kInt;
      v.num = Int();
    } else {
      v = Word();
    }
    v.text = s_.substr(start, pos_ - start);
    return v;
  }

  PyValue Dict() {
    PyValue v;
    v.kind = PyValue::Kind::kDict;
    Expect('{');
    while (!Eat('}')) {
      SkipSpace();
      if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) Fail("expected a key");
      std::string key = String();
      Expect(':');
      v.dict[key] = Value();
      if (!Eat(',')) {
        Expect('}');
        break;
      }
    }
    return v;
  }

  PyValue Sequence(char close) {
    PyValue v;
    v.kind = PyValue::Kind::kTuple;
    ++pos_;
    while (!Eat(close)) {
      v.items.push_back(Value());
      if (!Eat(',')) {
        Expect(close);
        break;
      }
    }
    return v;
  }

  std::string String() {
    const char quote = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out += s_[pos_++];
    }
    if (pos_ >= s_.size()) Fail("has an unterminated string");
    ++pos_;
    return out;
  }

  int64_t Int() {
    bool negative = false;
    if (s_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    if (pos_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      Fail("has a malformed number");
    }
    int64_t n = 0;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, s_[pos_] - '0', &n)) {
        Fail("has a number that does not fit int64");
      }
      ++pos_;
    }
    // Python 2 era files may write long integers as 3L.
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;
    return negative ? -n : n;
  }

  PyValue Word() {
    const size_t start = pos_;
    while (pos_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    const std::string_view w = s_.substr(start, pos_ - start);
    PyValue v;
    if (w == "True" || w == "False") {
      v.kind = PyValue::Kind::kBool;
      v.flag = w == "True";
    } else if (w == "None") {
      v.kind = PyValue::Kind::kNone;
    } else {
      Fail("has an unexpected token");
    }
    return v;
  }

  std::string_view s_;
  const std::string& file_;
  size_t pos_ = 0;
};

constexpr std::string_view kReadable = "<f8 <f4 <f2 <c16 <i8 <i4 <i2 |i1 <u8 <u4 <u2 |u1 |b1";

[[noreturn]] void NotNpy(const std::string& file, const std::string& why) {
  throw IOError("'" + file + "' is not a valid .npy file: " + why);
}

}  // namespace

std::string NpyDescr(DType dtype) {
  switch (dtype) {
    case DType::kFloat64:
      return "<f8";
    case DType::kFloat32:
      return "<f4";
    case DType::kInt64:
      return "<i8";
    case DType::kInt32:
      return "<i4";
    case DType::kBool:
      return "|b1";
    case DType::kInt8:
      return "|i1";
    case DType::kInt16:
      return "<i2";
    case DType::kUInt8:
      return "|u1";
    case DType::kUInt16:
      return "<u2";
    case DType::kUInt32:
      return "<u4";
    case DType::kUInt64:
      return "<u8";
    case DType::kFloat16:
      return "<f2";
    case DType::kComplex128:
      return "<c16";
  }
  throw_unknown_dtype(dtype);
}

int64_t NpyHeaderLength(std::string_view prelude, const std::string& file) {
  if (prelude.size() < 10 || prelude.substr(0, kMagic.size()) != kMagic) {
    NotNpy(file, "it does not start with the magic string \\x93NUMPY");
  }
  const auto major = static_cast<unsigned char>(prelude[6]);
  const auto minor = static_cast<unsigned char>(prelude[7]);
  auto byte = [&](size_t i) {
    return static_cast<int64_t>(static_cast<unsigned char>(prelude[i]));
  };
  if (major == 1 && minor == 0) return 10 + (byte(8) | byte(9) << 8);
  if ((major == 2 || major == 3) && minor == 0) {
    if (prelude.size() < 12) NotNpy(file, "the header length ends early");
    return 12 + (byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24);
  }
  NotNpy(file, "unsupported format version " + std::to_string(major) + "." + std::to_string(minor) +
                   " (nums reads 1.0, 2.0 and 3.0)");
}

NpyHeader ParseNpyHeader(std::string_view bytes, const std::string& file) {
  const int64_t total = NpyHeaderLength(bytes, file);
  if (static_cast<int64_t>(bytes.size()) < total) NotNpy(file, "the header ends early");
  const size_t start = static_cast<unsigned char>(bytes[6]) == 1 ? 10 : 12;
  const std::string_view dict_text = bytes.substr(start, static_cast<size_t>(total) - start);
  const PyValue v = LiteralParser(dict_text, file).ParseAll();
  if (v.kind != PyValue::Kind::kDict) NotNpy(file, "the header is not a dict");
  auto field = [&](const char* name) -> const PyValue& {
    auto it = v.dict.find(name);
    if (it == v.dict.end()) NotNpy(file, std::string("the header has no '") + name + "' key");
    return it->second;
  };
  const PyValue& descr = field("descr");
  const PyValue& order = field("fortran_order");
  const PyValue& shape = field("shape");

  NpyHeader h;
  h.data_offset = total;
  if (order.kind != PyValue::Kind::kBool) NotNpy(file, "'fortran_order' is not True or False");
  h.fortran_order = order.flag;
  if (shape.kind != PyValue::Kind::kTuple) NotNpy(file, "'shape' is not a tuple");
  for (const PyValue& d : shape.items) {
    if (d.kind != PyValue::Kind::kInt) NotNpy(file, "'shape' holds a non-integer");
    if (d.num < 0) {
      throw ValueError("'" + file + "': negative dimension in shape " + std::string(shape.text));
    }
    h.shape.push_back(d.num);
  }
  if (descr.kind != PyValue::Kind::kString) {
    throw DTypeError("'" + file + "': unsupported dtype " + std::string(descr.text) +
                     " (structured); nums reads " + std::string(kReadable));
  }
  const std::string& d = descr.str;
  const std::string_view body = d.size() >= 3 ? std::string_view(d).substr(1) : "";
  const char order_char = d.empty() ? '?' : d[0];
  static const std::map<std::string_view, DType> kTypes = {
      {"f8", DType::kFloat64},    {"f4", DType::kFloat32}, {"f2", DType::kFloat16},
      {"i8", DType::kInt64},      {"i4", DType::kInt32},   {"i2", DType::kInt16},
      {"i1", DType::kInt8},       {"u8", DType::kUInt64},  {"u4", DType::kUInt32},
      {"u2", DType::kUInt16},     {"u1", DType::kUInt8},   {"b1", DType::kBool},
      {"c16", DType::kComplex128}};
  auto it = kTypes.find(body);
  const bool order_ok = order_char == '<' || order_char == '>' || order_char == '=' ||
                        (order_char == '|' && it != kTypes.end() && itemsize(it->second) == 1);
  if (it == kTypes.end() || !order_ok) {
    throw DTypeError("'" + file + "': unsupported dtype '" + d + "'; nums reads " +
                     std::string(kReadable) + " (and their big-endian forms)");
  }
  h.dtype = it->second;
  h.big_endian = order_char == '>' && itemsize(h.dtype) > 1;
  return h;
}

std::string FormatNpyHeader(DType dtype, const engine::Shape& shape) {
  std::string dict = "{'descr': '" + NpyDescr(dtype) + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (i + 1 < shape.size() || shape.size() == 1) dict += ", ";
  }
  if (shape.size() == 1) dict.pop_back();  // "(5,)" as Python writes a 1-tuple
  dict += "), }";
  // The dict ends with '\n' and is padded with spaces so the data starts 64-byte aligned.
  auto padded = [&](int64_t prelude) {
    const int64_t unpadded = prelude + static_cast<int64_t>(dict.size()) + 1;
    return (64 - unpadded % 64) % 64;
  };
  int64_t prelude = 10;
  int version = 1;
  if (static_cast<int64_t>(dict.size()) + 1 + padded(10) > std::numeric_limits<uint16_t>::max()) {
    prelude = 12;
    version = 2;
  }
  const int64_t pad = padded(prelude);
  const int64_t len = static_cast<int64_t>(dict.size()) + pad + 1;
  std::string out(kMagic);
  out += static_cast<char>(version);
  out += '\0';
  for (int64_t i = 0; i < prelude - 8; ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  out += dict;
  out.append(static_cast<size_t>(pad), ' ');
  out += '\n';
  return out;
}

}  // namespace nums::io
