#pragma once
/// DLPack exchange: arrays to and from other libraries (PyTorch, NumPy, CuPy, JAX, ...) through
/// the DLPack C ABI, version 1 (https://dmlc.github.io/dlpack/latest/c_api.html).
///
/// The first half of this header declares that ABI, the types and macros of dlpack.h, in the
/// global namespace under dlpack.h's own names and its include guard `DLPACK_DLPACK_H_`. So a
/// program may include the real dlpack.h before or after this header: whichever comes first
/// defines the types and the other is skipped. The types are laid out as dlpack.h 1.x lays them
/// out (checked below); enumerators added by a later minor version of dlpack.h are absent here,
/// which changes no layout. A program that uses what only a later dlpack.h declares (the
/// DLPackExchangeAPI of 1.2, new enumerators) includes dlpack.h before any nums header.
///
/// The second half, in namespace nums, converts. nums arrays are distributed over a cluster and
/// own their blocks, so from_dlpack always copies the producer's elements (into blocks on their
/// nodes) and then hands the tensor back to its producer by calling its deleter; to_dlpack of a
/// BlockArray gathers the array to the driver first.

#ifndef DLPACK_DLPACK_H_
#define DLPACK_DLPACK_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define DLPACK_EXTERN_C extern "C"
#else
#define DLPACK_EXTERN_C
#endif

/// The version of the ABI declared here: 1.1.
#define DLPACK_MAJOR_VERSION 1
#define DLPACK_MINOR_VERSION 1

#ifdef _WIN32
#ifdef DLPACK_EXPORTS
#define DLPACK_DLL __declspec(dllexport)
#else
#define DLPACK_DLL __declspec(dllimport)
#endif
#else
#define DLPACK_DLL
#endif

/// Flag bits of DLManagedTensorVersioned::flags. READ_ONLY: the consumer must not write the
/// elements. IS_COPIED: the producer made the elements for this exchange alone, so the consumer
/// may keep and write them until it calls the deleter. IS_SUBBYTE_TYPE_PADDED: elements of a
/// type narrower than a byte take a byte each instead of being packed.
#define DLPACK_FLAG_BITMASK_READ_ONLY (1UL << 0UL)
#define DLPACK_FLAG_BITMASK_IS_COPIED (1UL << 1UL)
#define DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED (1UL << 2UL)

#ifdef __cplusplus
extern "C" {
#endif

/// The ABI version a managed tensor was made for. A consumer must not read past `flags` of a
/// tensor whose major version differs from its own, only call its deleter; a newer minor
/// version only adds enumerators.
typedef struct {
  uint32_t major;
  uint32_t minor;
} DLPackVersion;

/// Where a tensor's memory lives. The values are fixed by the standard (5 and 6 are unused).
#ifdef __cplusplus
typedef enum : int32_t {
#else
typedef enum {
#endif
  kDLCPU = 1,           ///< ordinary host memory
  kDLCUDA = 2,          ///< NVIDIA GPU memory
  kDLCUDAHost = 3,      ///< host memory pinned by cudaMallocHost
  kDLOpenCL = 4,        ///< an OpenCL buffer
  kDLVulkan = 7,        ///< a Vulkan buffer
  kDLMetal = 8,         ///< Apple GPU (Metal) memory
  kDLVPI = 9,           ///< a Verilog simulator's buffer
  kDLROCM = 10,         ///< AMD GPU memory
  kDLROCMHost = 11,     ///< host memory pinned by hipMallocHost
  kDLExtDev = 12,       ///< reserved for trying out new devices
  kDLCUDAManaged = 13,  ///< CUDA unified memory (cudaMallocManaged)
  kDLOneAPI = 14,       ///< oneAPI unified shared memory
  kDLWebGPU = 15,       ///< WebGPU memory
  kDLHexagon = 16,      ///< Qualcomm Hexagon DSP memory
  kDLMAIA = 17,         ///< Microsoft MAIA memory
  kDLTrn = 18,          ///< AWS Trainium memory
} DLDeviceType;

/// A device: its type and its index among devices of that type (0 for host memory).
typedef struct {
  DLDeviceType device_type;
  int32_t device_id;
} DLDevice;

/// The kind of number an element is; DLDataType::code holds one of these.
typedef enum {
  kDLInt = 0U,           ///< two's complement signed integer
  kDLUInt = 1U,          ///< unsigned integer
  kDLFloat = 2U,         ///< IEEE 754 binary floating point
  kDLOpaqueHandle = 3U,  ///< an opaque handle (for tests between agreeing libraries)
  kDLBfloat = 4U,        ///< bfloat16
  kDLComplex = 5U,       ///< complex: real and imaginary parts side by side
  kDLBool = 6U,          ///< boolean, one byte each (bits = 8)
  kDLFloat8_e3m4 = 7U,   ///< the 8-bit float formats
  kDLFloat8_e4m3 = 8U,
  kDLFloat8_e4m3b11fnuz = 9U,
  kDLFloat8_e4m3fn = 10U,
  kDLFloat8_e4m3fnuz = 11U,
  kDLFloat8_e5m2 = 12U,
  kDLFloat8_e5m2fnuz = 13U,
  kDLFloat8_e8m0fnu = 14U,
  kDLFloat6_e2m3fn = 15U,  ///< the 6-bit float formats (bits = 6)
  kDLFloat6_e3m2fn = 16U,
  kDLFloat4_e2m1fn = 17U,  ///< the 4-bit float format (bits = 4)
} DLDataTypeCode;

/// An element type in native byte order: a DLDataTypeCode, the bits of one lane, and the
/// lanes of a vector type (1 for scalars). float32 is {kDLFloat, 32, 1}; bool is {kDLBool, 8, 1}.
typedef struct {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
} DLDataType;

/// A view of a strided tensor; it owns nothing. Element i (an index per axis) is at byte
/// `(char*)data + byte_offset + sizeof(element) * sum_k i[k] * strides[k]`. Strides count
/// elements, not bytes, and may be negative; NULL strides (allowed before DLPack 1.0) mean
/// row-major compact. `shape` and `strides` hold `ndim` entries each; `data` may be NULL for a
/// tensor without elements.
typedef struct {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
} DLTensor;

/// The exchange struct of DLPack before 1.0 (no version, no flags). Its consumer calls
/// `deleter(self)` once, when done with the tensor, unless the deleter is NULL; that frees the
/// tensor and whatever `manager_ctx` keeps alive.
typedef struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensor* self);
} DLManagedTensor;

/// The exchange struct of DLPack 1.x: a tensor with the version it was made for and flag bits
/// (DLPACK_FLAG_BITMASK_*). Everything up to and including `flags` keeps its place in every
/// future version, so that a consumer can always call the deleter; the deleter is called as for
/// DLManagedTensor.
typedef struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
} DLManagedTensorVersioned;

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // DLPACK_DLPACK_H_

#include <cstddef>

#include "nums/block_array.hpp"
#include "nums/ndarray.hpp"

// The layout of dlpack.h 1.x on the platforms nums builds for (LP64): every field where the C
// compiler puts it. Whichever header defined the types, nums's converters read them this way.
static_assert(sizeof(DLPackVersion) == 8);
static_assert(sizeof(DLDeviceType) == 4 && sizeof(DLDevice) == 8);
static_assert(sizeof(DLDataType) == 4 && offsetof(DLDataType, lanes) == 2);
static_assert(sizeof(DLTensor) == 48);
static_assert(offsetof(DLTensor, device) == 8 && offsetof(DLTensor, ndim) == 16);
static_assert(offsetof(DLTensor, dtype) == 20 && offsetof(DLTensor, shape) == 24);
static_assert(offsetof(DLTensor, strides) == 32 && offsetof(DLTensor, byte_offset) == 40);
static_assert(sizeof(DLManagedTensor) == 64);
static_assert(offsetof(DLManagedTensor, manager_ctx) == 48);
static_assert(offsetof(DLManagedTensor, deleter) == 56);
static_assert(sizeof(DLManagedTensorVersioned) == 80);
static_assert(offsetof(DLManagedTensorVersioned, manager_ctx) == 8);
static_assert(offsetof(DLManagedTensorVersioned, deleter) == 16);
static_assert(offsetof(DLManagedTensorVersioned, flags) == 24);
static_assert(offsetof(DLManagedTensorVersioned, dl_tensor) == 32);

namespace nums {

/// The DLPack version nums's tensors carry, and the major version it reads (1.1).
inline constexpr uint32_t kDLPackMajorVersion = 1;
inline constexpr uint32_t kDLPackMinorVersion = 1;

/// The array API's from_dlpack: a new BlockArray holding a copy of the tensor's elements, laid
/// out in `block_shape` (empty: the default rule) on the current context's nodes.
///
/// The tensor must be in host memory: kDLCPU, or memory pinned by CUDA or ROCm (kDLCUDAHost,
/// kDLROCMHost), whose producer has finished writing it (nums synchronises no stream). Any
/// strides are read, negative ones included; NULL strides mean row-major compact. Element types:
/// bool {kDLBool, 8} (any non-zero byte is true), int and uint of 8, 16, 32 and 64 bits, float of
/// 16, 32 and 64 bits, all with one lane. 0-d and empty tensors are fine.
///
/// Takes ownership of `t`: its deleter (when not NULL) is called exactly once before this
/// returns or throws, so the producer's memory is free again at once. Throws ValueError for a
/// null `t`, a major version other than 1, a device nums cannot read, a negative ndim or
/// dimension, a null shape (ndim > 0) or a null data pointer (elements > 0); DTypeError naming
/// the code, bits and lanes of an element type nums has no dtype for.
BlockArray from_dlpack(DLManagedTensorVersioned* t, const Shape& block_shape = {});
/// from_dlpack for a tensor of DLPack before 1.0 (no version to check).
BlockArray from_dlpack(DLManagedTensor* t, const Shape& block_shape = {});

/// from_dlpack into a driver-side NDArray instead of a distributed array: the same checks, the
/// same ownership of `t`, and a copy of the elements (row-major compact).
NDArray ndarray_from_dlpack(DLManagedTensorVersioned* t);
NDArray ndarray_from_dlpack(DLManagedTensor* t);

/// A DLPack 1.1 tensor of `a` on kDLCPU, for another library to consume. It shares `a`'s bytes
/// (as NumPy's __dlpack__ does: writes through it show in `a`) and keeps them alive until its
/// deleter is called; flags are 0 (writable, not a copy). Row-major strides are always given;
/// the data pointer is NULL for an array without elements. The caller, or the library it hands
/// the tensor to, must call `deleter(t)` exactly once.
DLManagedTensorVersioned* to_dlpack(const NDArray& a);
/// A DLPack 1.1 tensor of `a` gathered to the driver (as BlockArray::get()): a fresh copy that
/// the tensor alone owns, so DLPACK_FLAG_BITMASK_IS_COPIED is set; otherwise as above.
DLManagedTensorVersioned* to_dlpack(const BlockArray& a);

/// The DLPack element type of `t` ({kDLFloat, 64, 1} for float64, {kDLBool, 8, 1} for bool).
DLDataType dlpack_dtype(DType t);
/// The nums dtype of a DLPack element type; DTypeError naming its code, bits and lanes when
/// nums has none.
DType dtype_from_dlpack(DLDataType t);

}  // namespace nums
