// NumPy's repr of an array, for NDArray and BlockArray: the same element formats (floats in
// positional or scientific notation with the fewest digits that identify each value, at most 8
// after the point), the same line wrapping at 75 columns, and the same summary (3 items at each
// end of every axis longer than 6) when the array has more than 1000 elements. A BlockArray is
// summarised before it is gathered, so printing a large array moves only its edges.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "nums/block_array.hpp"
#include "nums/indexing.hpp"
#include "nums/ndarray.hpp"
#include "nums/shape.hpp"

namespace nums {
namespace {

constexpr int64_t kEdgeItems = 3;
constexpr int64_t kThreshold = 1000;
constexpr int64_t kLineWidth = 75;
constexpr int64_t kMaxPrecision = 8;

/// The elements to show, and for each axis whether it was cut to its first and last kEdgeItems.
struct Shown {
  NDArray data;
  std::vector<bool> cut;
};

bool summarises(const Shape& shape, int64_t size, int64_t axis) {
  return size > kThreshold && shape[static_cast<size_t>(axis)] > 2 * kEdgeItems;
}

/// a's elements at the positions kept[d] along each axis d.
NDArray gather(const NDArray& a, const std::vector<std::vector<int64_t>>& kept) {
  Shape shape;
  for (const auto& k : kept) shape.push_back(static_cast<int64_t>(k.size()));
  NDArray out(a.dtype(), shape);
  if (out.size() == 0) return out;
  const int64_t n = a.ndim();
  std::vector<int64_t> strides(static_cast<size_t>(n), 1);
  for (int64_t d = n - 2; d >= 0; --d) {
    strides[static_cast<size_t>(d)] =
        strides[static_cast<size_t>(d + 1)] * a.shape()[static_cast<size_t>(d + 1)];
  }
  const int64_t item = itemsize(a.dtype());
  const auto* src = static_cast<const char*>(a.raw());
  auto* dst = static_cast<char*>(out.raw());
  std::vector<size_t> pos(static_cast<size_t>(n), 0);
  for (int64_t k = 0; k < out.size(); ++k) {
    int64_t offset = 0;
    for (size_t d = 0; d < pos.size(); ++d) offset += kept[d][pos[d]] * strides[d];
    std::copy_n(src + offset * item, item, dst + k * item);
    for (size_t d = pos.size(); d-- > 0;) {
      if (++pos[d] < kept[d].size()) break;
      pos[d] = 0;
    }
  }
  return out;
}

Shown summarise(const NDArray& a) {
  std::vector<std::vector<int64_t>> kept;
  std::vector<bool> cut;
  for (int64_t d = 0; d < a.ndim(); ++d) {
    const int64_t len = a.shape()[static_cast<size_t>(d)];
    std::vector<int64_t> k;
    const bool c = summarises(a.shape(), a.size(), d);
    for (int64_t i = 0; i < len; ++i) {
      if (!c || i < kEdgeItems || i >= len - kEdgeItems) k.push_back(i);
    }
    kept.push_back(std::move(k));
    cut.push_back(c);
  }
  if (std::none_of(cut.begin(), cut.end(), [](bool c) { return c; })) return {a, cut};
  return {gather(a, kept), cut};
}

Shown summarise(const BlockArray& x) {
  BlockArray shown = x;
  std::vector<bool> cut;
  for (int64_t d = 0; d < x.ndim(); ++d) {
    const bool c = summarises(x.shape(), x.size(), d);
    cut.push_back(c);
    if (!c) continue;
    std::vector<IndexEntry> head(static_cast<size_t>(x.ndim()), IndexEntry(all));
    std::vector<IndexEntry> tail = head;
    head[static_cast<size_t>(d)] = slice(std::nullopt, kEdgeItems);
    tail[static_cast<size_t>(d)] = slice(-kEdgeItems, std::nullopt);
    shown =
        concatenate({BlockArray(IndexExpr(shown, head)), BlockArray(IndexExpr(shown, tail))}, d);
  }
  return {shown.get(), cut};
}

template <typename T>
std::string chars(T v, std::chars_format fmt) {
  char buf[128];
  return std::string(buf, std::to_chars(buf, buf + sizeof(buf), v, fmt).ptr);
}
template <typename T>
std::string chars(T v, std::chars_format fmt, int precision) {
  char buf[512];
  return std::string(buf, std::to_chars(buf, buf + sizeof(buf), v, fmt, precision).ptr);
}

void trim_zeros(std::string& digits) {
  if (digits.find('.') == std::string::npos) return;
  while (digits.back() == '0') digits.pop_back();
}

/// The shortest digits that identify v (in its own type), rounded to kMaxPrecision digits after
/// the point when they are longer; always with a point ("1.", "0.25", "-3.5").
template <typename T>
std::string positional(T v) {
  std::string s = chars(v, std::chars_format::fixed);
  const auto dot = s.find('.');
  if (dot != std::string::npos && static_cast<int64_t>(s.size() - dot - 1) > kMaxPrecision) {
    s = chars(v, std::chars_format::fixed, static_cast<int>(kMaxPrecision));
    trim_zeros(s);
  }
  if (s.find('.') == std::string::npos) s += '.';
  return s;
}

/// Scientific digits as positional(): mantissa (with a point) and exponent ("-05").
template <typename T>
std::pair<std::string, std::string> scientific(T v) {
  std::string s = chars(v, std::chars_format::scientific);
  auto e = s.find('e');
  const auto dot = s.find('.');
  if (dot != std::string::npos && static_cast<int64_t>(e - dot - 1) > kMaxPrecision) {
    s = chars(v, std::chars_format::scientific, static_cast<int>(kMaxPrecision));
    e = s.find('e');
    std::string mantissa = s.substr(0, e);
    trim_zeros(mantissa);
    s = mantissa + s.substr(e);
    e = s.find('e');
  }
  std::string mantissa = s.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += '.';
  return {mantissa, s.substr(e + 1)};
}

/// float16 digits: the fewest that read back (as a float16) to the same value, as NumPy prints
/// float16 (not the float32 digits of the value).
bool reads_back(const std::string& s, half h) {
  return half(std::strtod(s.c_str(), nullptr)).bits == h.bits;
}
std::string positional(half h) {
  const float f = static_cast<float>(h);
  std::string s;
  for (int p = 0; p <= static_cast<int>(kMaxPrecision); ++p) {
    s = chars(f, std::chars_format::fixed, p);
    if (reads_back(s, h)) break;
  }
  trim_zeros(s);
  if (s.find('.') == std::string::npos) s += '.';
  return s;
}
std::pair<std::string, std::string> scientific(half h) {
  const float f = static_cast<float>(h);
  std::string s;
  for (int p = 0; p <= static_cast<int>(kMaxPrecision); ++p) {
    s = chars(f, std::chars_format::scientific, p);
    if (reads_back(s, h)) break;
  }
  const auto e = s.find('e');
  std::string mantissa = s.substr(0, e);
  trim_zeros(mantissa);
  if (mantissa.find('.') == std::string::npos) mantissa += '.';
  return {mantissa, s.substr(e + 1)};
}

std::string pad_left(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// `as_half`: the values are float16 (held as float), printed with float16's digits.
template <typename T>
std::vector<std::string> format_floats(const T* v, int64_t n, bool as_half = false) {
  T max_abs = 0, min_abs = std::numeric_limits<T>::infinity();
  bool any_nonzero = false, any_nonfinite = false, neg_inf = false;
  for (int64_t k = 0; k < n; ++k) {
    if (!std::isfinite(v[k])) {
      any_nonfinite = true;
      neg_inf = neg_inf || (std::isinf(v[k]) && v[k] < 0);
      continue;
    }
    if (v[k] == 0) continue;
    any_nonzero = true;
    max_abs = std::max(max_abs, std::abs(v[k]));
    min_abs = std::min(min_abs, std::abs(v[k]));
  }
  const bool exp_format =
      any_nonzero && (max_abs >= T(1e8) || min_abs < T(0.0001) || max_abs / min_abs > T(1000));

  // First the digits of each finite value and the widths they need on either side of the
  // point; nan and inf may widen the left side; then every value padded to those widths.
  std::vector<std::string> out(static_cast<size_t>(n));
  std::vector<std::string> exponents(static_cast<size_t>(n));
  size_t left = 0, right = 0, exp_digits = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (!std::isfinite(v[k])) continue;
    auto& s = out[static_cast<size_t>(k)];
    if (exp_format) {
      std::tie(s, exponents[static_cast<size_t>(k)]) =
          as_half ? scientific(half(v[k])) : scientific(v[k]);
      exp_digits = std::max(exp_digits, exponents[static_cast<size_t>(k)].size() - 1);
    } else {
      s = as_half ? positional(half(v[k])) : positional(v[k]);
    }
    const auto dot = s.find('.');
    left = std::max(left, dot);
    right = std::max(right, s.size() - dot - 1);
  }
  // The width of "e+NN" counts on the right for nan and inf.
  const size_t right_all = exp_format ? right + exp_digits + 2 : right;
  if (any_nonfinite) {
    const size_t offset = right_all + 1;
    const size_t nan_len = 3, inf_len = neg_inf ? 4 : 3;
    left = std::max(
        {left, nan_len > offset ? nan_len - offset : 0, inf_len > offset ? inf_len - offset : 0});
  }
  for (int64_t k = 0; k < n; ++k) {
    auto& s = out[static_cast<size_t>(k)];
    if (!std::isfinite(v[k])) {
      s = pad_left(std::isnan(v[k]) ? "nan" : v[k] < 0 ? "-inf" : "inf", left + right_all + 1);
      continue;
    }
    const size_t frac = s.size() - s.find('.') - 1;
    if (exp_format) {
      // Mantissas get zeros to a common length; exponents at least exp_digits digits.
      const std::string& e = exponents[static_cast<size_t>(k)];
      const std::string digits = e.substr(1);
      s = pad_left(s + std::string(right - frac, '0'), left + 1 + right) + "e" + e[0] +
          std::string(exp_digits - digits.size(), '0') + digits;
    } else {
      s = pad_left(s, left + 1 + frac) + std::string(right - frac, ' ');
    }
  }
  return out;
}

// NumPy's complex layout: the real parts formatted as one float column, the imaginary parts as
// another with a sign always shown, then "j" before the imaginary part's padding.
std::vector<std::string> format_complex(const std::complex<double>* v, int64_t n) {
  std::vector<double> re(static_cast<size_t>(n)), im(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    re[static_cast<size_t>(k)] = v[k].real();
    im[static_cast<size_t>(k)] = v[k].imag();
  }
  const std::vector<std::string> rs = format_floats(re.data(), n);
  std::vector<std::string> is = format_floats(im.data(), n);
  size_t width = 0;
  for (auto& s : is) {
    s.erase(0, s.find_first_not_of(' '));
    if (s[0] != '-') s.insert(0, "+");
    const size_t end = s.find_last_not_of(' ') + 1;
    s.insert(end, "j");
    width = std::max(width, s.size());
  }
  std::vector<std::string> out(static_cast<size_t>(n));
  for (size_t k = 0; k < out.size(); ++k) out[k] = rs[k] + pad_left(is[k], width);
  return out;
}

/// Each element's text, all of one width.
std::vector<std::string> format_elements(const NDArray& a) {
  const int64_t n = a.size();
  return dispatch_all(a.dtype(), [&](auto tag) -> std::vector<std::string> {
    using T = decltype(tag);
    const T* v = a.data<T>();
    if constexpr (std::is_same_v<T, std::complex<double>>) {
      return format_complex(v, n);
    } else if constexpr (std::is_same_v<T, half>) {
      std::vector<float> f(static_cast<size_t>(n));
      for (int64_t k = 0; k < n; ++k) f[static_cast<size_t>(k)] = static_cast<float>(v[k]);
      return format_floats(f.data(), n, true);
    } else if constexpr (std::is_same_v<T, bool>) {
      std::vector<std::string> out;
      for (int64_t k = 0; k < n; ++k) {
        out.push_back(v[k] ? (a.ndim() == 0 ? "True" : " True") : "False");
      }
      return out;
    } else if constexpr (std::is_integral_v<T>) {
      std::vector<std::string> out;
      size_t width = 0;
      for (int64_t k = 0; k < n; ++k) {
        out.push_back(std::to_string(v[k]));
        width = std::max(width, out.back().size());
      }
      for (auto& s : out) s = pad_left(s, width);
      return out;
    } else {
      return format_floats(v, n);
    }
  });
}

/// Lays the formatted elements out as NumPy does: rows wrapped at the line width with a hanging
/// indent, blank lines between the higher axes, and "..." where an axis was cut.
class Layout {
 public:
  Layout(const Shape& shape, const std::vector<bool>& cut, std::vector<std::string> words)
      : shape_(shape), cut_(cut), words_(std::move(words)), strides_(shape.size(), 1) {
    for (size_t d = shape.size(); d-- > 1;) strides_[d - 1] = strides_[d] * shape[d];
  }

  std::string format(int64_t axis, int64_t offset, const std::string& hanging,
                     int64_t width) const {
    const auto ax = static_cast<size_t>(axis);
    if (ax == shape_.size()) return words_[static_cast<size_t>(offset)];
    const std::string next_hanging = hanging + ' ';
    const int64_t len = shape_[ax];
    std::vector<int64_t> items;  // positions along the axis; -1 stands for "..."
    for (int64_t i = 0; i < len; ++i) {
      if (cut_[ax] && i == kEdgeItems) items.push_back(-1);
      items.push_back(i);
    }
    std::string s;
    if (ax + 1 == shape_.size()) {
      const int64_t elem_width = width - 1;
      std::string line = hanging;
      for (size_t k = 0; k < items.size(); ++k) {
        const std::string word =
            items[k] < 0 ? "..." : words_[static_cast<size_t>(offset + items[k])];
        const bool wrap = static_cast<int64_t>(line.size() + word.size()) > elem_width &&
                          line.size() > hanging.size();
        if (wrap) {
          s += rstrip(line) + "\n";
          line = hanging;
        }
        line += word;
        if (k + 1 < items.size()) line += ", ";
      }
      s += line;
    } else {
      const std::string sep = "," + std::string(shape_.size() - ax - 1, '\n');
      for (size_t k = 0; k < items.size(); ++k) {
        s += hanging;
        s += items[k] < 0
                 ? "..."
                 : format(axis + 1, offset + items[k] * strides_[ax], next_hanging, width - 1);
        if (k + 1 < items.size()) s += sep;
      }
    }
    return "[" + s.substr(hanging.size()) + "]";
  }

 private:
  static std::string rstrip(std::string s) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
  }

  const Shape& shape_;
  const std::vector<bool>& cut_;
  std::vector<std::string> words_;
  std::vector<int64_t> strides_;
};

std::string shape_tuple(const Shape& shape) {
  std::string s = "(";
  for (size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// repr of the array whose shown elements are `shown`; `shape` and `size` are the whole array's.
std::string repr_of(const Shown& shown, DType dtype, const Shape& shape, int64_t size) {
  const std::string prefix = "array(";
  const bool implied = size > 0 && (dtype == DType::kFloat64 || dtype == DType::kInt64 ||
                                    dtype == DType::kBool || dtype == DType::kComplex128);
  std::string body;
  if (size == 0) {
    body = shape.size() == 1 ? "[]" : "[], shape=" + shape_tuple(shape);
  } else {
    Layout layout(shown.data.shape(), shown.cut, format_elements(shown.data));
    body = layout.format(0, 0, std::string(prefix.size() + 1, ' '), kLineWidth - 1);
  }
  std::string out = prefix + body + (implied ? ")" : ",");
  if (implied) return out;
  const std::string dtype_str = "dtype=" + std::string(dtype_name(dtype)) + ")";
  const size_t last_line =
      out.size() - (out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  const bool newline = static_cast<int64_t>(last_line + dtype_str.size() + 1) > kLineWidth;
  return out + (newline ? "\n" + std::string(prefix.size(), ' ') : " ") + dtype_str;
}

}  // namespace

std::string repr(const NDArray& a) { return repr_of(summarise(a), a.dtype(), a.shape(), a.size()); }

std::string repr(const BlockArray& x) {
  return repr_of(summarise(x), x.dtype(), x.shape(), x.size());
}

std::ostream& operator<<(std::ostream& os, const NDArray& a) { return os << repr(a); }
std::ostream& operator<<(std::ostream& os, const BlockArray& x) { return os << repr(x); }

}  // namespace nums
