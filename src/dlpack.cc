// DLPack exchange: a producer's strided host tensor is checked, read into nums (a copy), and
// handed back through its deleter; nums's dense arrays are lent out as compact tensors.

#include "nums/dlpack.hpp"

#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "nums/creation.hpp"
#include "src/checked.h"

namespace nums {
namespace {

// The enumerator's name, or "" for a value dlpack.h 1.1 does not have.
std::string device_type_name(int32_t type) {
  switch (type) {
    case kDLCPU:
      return "kDLCPU";
    case kDLCUDA:
      return "kDLCUDA";
    case kDLCUDAHost:
      return "kDLCUDAHost";
    case kDLOpenCL:
      return "kDLOpenCL";
    case kDLVulkan:
      return "kDLVulkan";
    case kDLMetal:
      return "kDLMetal";
    case kDLVPI:
      return "kDLVPI";
    case kDLROCM:
      return "kDLROCM";
    case kDLROCMHost:
      return "kDLROCMHost";
    case kDLExtDev:
      return "kDLExtDev";
    case kDLCUDAManaged:
      return "kDLCUDAManaged";
    case kDLOneAPI:
      return "kDLOneAPI";
    case kDLWebGPU:
      return "kDLWebGPU";
    case kDLHexagon:
      return "kDLHexagon";
    case kDLMAIA:
      return "kDLMAIA";
    case kDLTrn:
      return "kDLTrn";
    default:
      return "";
  }
}

std::string type_code_name(uint8_t code) {
  static const char* const kNames[] = {"kDLInt",
                                       "kDLUInt",
                                       "kDLFloat",
                                       "kDLOpaqueHandle",
                                       "kDLBfloat",
                                       "kDLComplex",
                                       "kDLBool",
                                       "kDLFloat8_e3m4",
                                       "kDLFloat8_e4m3",
                                       "kDLFloat8_e4m3b11fnuz",
                                       "kDLFloat8_e4m3fn",
                                       "kDLFloat8_e4m3fnuz",
                                       "kDLFloat8_e5m2",
                                       "kDLFloat8_e5m2fnuz",
                                       "kDLFloat8_e8m0fnu",
                                       "kDLFloat6_e2m3fn",
                                       "kDLFloat6_e3m2fn",
                                       "kDLFloat4_e2m1fn"};
  if (code < std::size(kNames)) return kNames[code];
  return "unknown";
}

// Host memory nums may read directly: pinned memory is ordinary host memory to the CPU.
bool readable_from_host(int32_t type) {
  return type == kDLCPU || type == kDLCUDAHost || type == kDLROCMHost;
}

// Calls a managed tensor's deleter (unless NULL) when the scope ends: the one place from_dlpack
// hands a tensor back to its producer, after a copy and on every error alike.
template <typename Managed>
class ReturnToProducer {
 public:
  explicit ReturnToProducer(Managed* t) : t_(t) {}
  ~ReturnToProducer() {
    if (t_->deleter != nullptr) t_->deleter(t_);
  }
  ReturnToProducer(const ReturnToProducer&) = delete;
  ReturnToProducer& operator=(const ReturnToProducer&) = delete;

 private:
  Managed* t_;
};

// A checked producer tensor: where element (i0, i1, ...) is, in bytes from `base`:
// itemsize * sum_k i_k * strides[k].
struct Source {
  DType dtype = float64;
  Shape shape;
  Shape strides;  // in elements, as DLPack counts them
  const uint8_t* base = nullptr;
  int64_t size = 0;
  bool row_major = false;  // the strides of a compact row-major array (size-1 axes aside)
};

Source inspect(const DLTensor& dl) {
  const int32_t device = static_cast<int32_t>(dl.device.device_type);
  if (!readable_from_host(device)) {
    const std::string name = device_type_name(device);
    throw ValueError("from_dlpack: tensor on " +
                     (name.empty() ? "unknown device" : "device " + name) + " (type " +
                     std::to_string(device) + ", id " + std::to_string(dl.device.device_id) +
                     "); nums reads host memory only (kDLCPU, kDLCUDAHost, kDLROCMHost)");
  }
  if (dl.ndim < 0) throw ValueError("from_dlpack: negative ndim " + std::to_string(dl.ndim));
  if (dl.ndim > 0 && dl.shape == nullptr) {
    throw ValueError("from_dlpack: null shape pointer for a tensor of ndim " +
                     std::to_string(dl.ndim));
  }
  Source s;
  s.dtype = dtype_from_dlpack(dl.dtype);
  s.shape.assign(dl.shape, dl.shape + dl.ndim);
  for (int64_t d : s.shape) {
    if (d < 0) {
      throw ValueError("from_dlpack: negative dimension " + std::to_string(d) + " in shape " +
                       shape_str(s.shape));
    }
  }
  s.size = shape_size(s.shape);  // ValueError when the element count overflows
  Shape compact(s.shape.size(), 1);
  for (size_t k = s.shape.size(); k-- > 1;) compact[k - 1] = compact[k] * s.shape[k];
  if (dl.strides == nullptr) {
    s.strides = compact;
  } else {
    s.strides.assign(dl.strides, dl.strides + dl.ndim);
  }
  s.row_major = true;
  for (size_t k = 0; k < s.shape.size(); ++k) {
    if (s.shape[k] != 1 && s.strides[k] != compact[k]) s.row_major = false;
  }
  if (s.size > 0 && dl.data == nullptr) {
    throw ValueError("from_dlpack: null data pointer for a tensor of shape " + shape_str(s.shape));
  }
  // Every byte offset copy_out computes is bounded by this reach; a bogus stride must not wrap.
  if (s.size > 0) {
    int64_t reach = itemsize(s.dtype);
    for (size_t k = 0; k < s.shape.size(); ++k) {
      const auto step = detail::checked_mul(s.strides[k], s.shape[k] - 1);
      const auto bytes = step && *step != INT64_MIN
                             ? detail::checked_mul(*step < 0 ? -*step : *step, itemsize(s.dtype))
                             : std::nullopt;
      const auto sum = bytes ? detail::checked_add(reach, *bytes) : std::nullopt;
      if (!sum) {
        throw ValueError("from_dlpack: strides " + shape_str(s.strides) + " of shape " +
                         shape_str(s.shape) + " reach past 2^63 bytes");
      }
      reach = *sum;
    }
  }
  if (dl.data != nullptr) s.base = static_cast<const uint8_t*>(dl.data) + dl.byte_offset;
  return s;
}

// The elements of `s` packed row-major into a new array. Offsets are kept as integers, never
// as pointers past the producer's buffer; bool bytes become 0 or 1 (C++'s bool holds no other).
NDArray copy_out(const Source& s) {
  NDArray out(s.dtype, s.shape);
  if (s.size == 0) return out;
  const int64_t item = itemsize(s.dtype);
  const bool is_bool = s.dtype == bool_;
  auto* dst = static_cast<uint8_t*>(out.raw());
  auto copy_element = [&](int64_t from_bytes) {
    if (is_bool) {
      *dst = s.base[from_bytes] != 0 ? 1 : 0;
    } else {
      std::memcpy(dst, s.base + from_bytes, static_cast<size_t>(item));
    }
    dst += item;
  };
  const size_t nd = s.shape.size();
  if (nd == 0) {
    copy_element(0);
    return out;
  }
  // Rows along the last axis; an odometer over the others moves `row` (bytes from base).
  const int64_t inner = s.shape[nd - 1];
  const int64_t inner_step = s.strides[nd - 1] * item;
  Shape index(nd, 0);
  int64_t row = 0;
  for (int64_t r = 0, rows = s.size / inner; r < rows; ++r) {
    if (inner_step == item && !is_bool) {
      std::memcpy(dst, s.base + row, static_cast<size_t>(inner * item));
      dst += inner * item;
    } else {
      for (int64_t j = 0; j < inner; ++j) copy_element(row + j * inner_step);
    }
    for (size_t k = nd - 1; k-- > 0;) {
      if (++index[k] < s.shape[k]) {
        row += s.strides[k] * item;
        break;
      }
      row -= (s.shape[k] - 1) * s.strides[k] * item;
      index[k] = 0;
    }
  }
  return out;
}

// The producer's bytes seen as an NDArray where they already are one (row-major, aligned, not
// bool), else a packed copy. A view is valid only until the producer's deleter runs.
NDArray view_or_copy(const Source& s) {
  const bool aligned = reinterpret_cast<uintptr_t>(s.base) % itemsize(s.dtype) == 0;
  if (!s.row_major || !aligned || s.dtype == bool_ || s.size == 0) return copy_out(s);
  void* data = const_cast<uint8_t*>(s.base);
  return NDArray(s.dtype, s.shape, std::shared_ptr<void>(data, [](void*) {}), data);
}

void check_version(const DLManagedTensorVersioned& t) {
  if (t.version.major != kDLPackMajorVersion) {
    throw ValueError("from_dlpack: DLPack version " + std::to_string(t.version.major) + "." +
                     std::to_string(t.version.minor) + " not supported (nums reads major version " +
                     std::to_string(kDLPackMajorVersion) + ")");
  }
}

template <typename Managed>
Managed* check_pointer(Managed* t, const char* type) {
  if (t == nullptr) throw ValueError(std::string("from_dlpack: null ") + type + " pointer");
  return t;
}

// What a lent tensor owns: the array (sharing its bytes) and the shape and strides the tensor
// points to. The tensor is the first member, so its address is the Lent's.
struct Lent {
  DLManagedTensorVersioned tensor{};
  NDArray array;
  Shape shape;
  Shape strides;
};

extern "C" {
static void DeleteLent(DLManagedTensorVersioned* self) {
  delete static_cast<Lent*>(self->manager_ctx);
}
}

}  // namespace

DLDataType dlpack_dtype(DType t) {
  const auto bits = static_cast<uint8_t>(8 * itemsize(t));
  const uint8_t code = t == bool_       ? kDLBool
                       : is_floating(t) ? kDLFloat
                       : is_complex(t)  ? kDLComplex
                       : is_unsigned(t) ? kDLUInt
                                        : kDLInt;
  return DLDataType{code, bits, 1};
}

DType dtype_from_dlpack(DLDataType t) {
  auto fail = [&]() -> DType {
    throw DTypeError(
        "from_dlpack: no nums dtype for DLPack type code " + std::to_string(t.code) + " (" +
        type_code_name(t.code) + "), bits " + std::to_string(t.bits) + ", lanes " +
        std::to_string(t.lanes) +
        " (nums reads one lane of bool 8, int and uint 8/16/32/64, float 16/32/64, complex "
        "128)");
  };
  if (t.lanes != 1) return fail();
  switch (t.code) {
    case kDLBool:
      return t.bits == 8 ? bool_ : fail();
    case kDLInt:
      switch (t.bits) {
        case 8:
          return int8;
        case 16:
          return int16;
        case 32:
          return int32;
        case 64:
          return int64;
        default:
          return fail();
      }
    case kDLUInt:
      switch (t.bits) {
        case 8:
          return uint8;
        case 16:
          return uint16;
        case 32:
          return uint32;
        case 64:
          return uint64;
        default:
          return fail();
      }
    case kDLFloat:
      switch (t.bits) {
        case 16:
          return float16;
        case 32:
          return float32;
        case 64:
          return float64;
        default:
          return fail();
      }
    case kDLComplex:
      return t.bits == 128 ? complex128 : fail();
    default:
      return fail();
  }
}

NDArray ndarray_from_dlpack(DLManagedTensorVersioned* t) {
  ReturnToProducer guard(check_pointer(t, "DLManagedTensorVersioned"));
  check_version(*t);
  return copy_out(inspect(t->dl_tensor));
}

NDArray ndarray_from_dlpack(DLManagedTensor* t) {
  ReturnToProducer guard(check_pointer(t, "DLManagedTensor"));
  return copy_out(inspect(t->dl_tensor));
}

// from_ndarray copies each block out of the source, so a compact producer tensor is read in
// place (one copy) and handed back only after the blocks exist.
BlockArray from_dlpack(DLManagedTensorVersioned* t, const Shape& block_shape) {
  ReturnToProducer guard(check_pointer(t, "DLManagedTensorVersioned"));
  check_version(*t);
  return from_ndarray(view_or_copy(inspect(t->dl_tensor)), block_shape);
}

BlockArray from_dlpack(DLManagedTensor* t, const Shape& block_shape) {
  ReturnToProducer guard(check_pointer(t, "DLManagedTensor"));
  return from_ndarray(view_or_copy(inspect(t->dl_tensor)), block_shape);
}

DLManagedTensorVersioned* to_dlpack(const NDArray& a) {
  auto lent = std::make_unique<Lent>();
  lent->array = a;
  lent->shape = a.shape();
  lent->strides.assign(a.shape().size(), 1);
  for (size_t k = a.shape().size(); k-- > 1;) {
    lent->strides[k - 1] = lent->strides[k] * a.shape()[k];
  }
  DLManagedTensorVersioned& t = lent->tensor;
  t.version = DLPackVersion{kDLPackMajorVersion, kDLPackMinorVersion};
  t.manager_ctx = lent.get();
  t.deleter = &DeleteLent;
  t.flags = 0;
  DLTensor& dl = t.dl_tensor;
  dl.data = a.size() > 0 ? lent->array.raw() : nullptr;
  dl.device = DLDevice{kDLCPU, 0};
  dl.ndim = static_cast<int32_t>(a.ndim());
  dl.dtype = dlpack_dtype(a.dtype());
  dl.shape = lent->shape.data();
  dl.strides = lent->strides.data();
  dl.byte_offset = 0;
  return &lent.release()->tensor;
}

DLManagedTensorVersioned* to_dlpack(const BlockArray& a) {
  DLManagedTensorVersioned* t = to_dlpack(a.get());
  t->flags |= DLPACK_FLAG_BITMASK_IS_COPIED;
  return t;
}

}  // namespace nums
