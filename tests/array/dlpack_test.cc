// DLPack exchange: round trips of every dtype through to_dlpack / from_dlpack on 1 and 3 nodes
// and several block shapes; producer tensors built by hand over a std::vector (strided,
// negatively strided, offset, unaligned, pinned host memory, the legacy struct); the producer's
// deleter called exactly once on success and on every error; each error's type and message.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <nums/nums.hpp>
#include <string>
#include <vector>

#include "tests/io/io_testing.h"
#include "tests/testing/testing.h"

#ifndef DLPACK_DLPACK_H_
#error "nums/dlpack.hpp must define dlpack.h's include guard"
#endif
static_assert(DLPACK_MAJOR_VERSION == 1);

namespace nums {
namespace {

using testing::AllDTypes;
using testing::ExpectThrowWith;

// A producer's tensor over bytes the test owns. The deleter only counts its calls, so a test
// can check the count after a call that took the tensor.
struct Producer {
  std::vector<uint8_t> bytes;
  Shape shape;
  Shape strides;
  int deletes = 0;
  DLManagedTensorVersioned versioned{};
  DLManagedTensor legacy{};

  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  // `strides` empty: NULL strides (row-major compact).
  Producer(DLDataType dtype, Shape shape_in, Shape strides_in, std::vector<uint8_t> bytes_in,
           uint64_t byte_offset = 0)
      : bytes(std::move(bytes_in)), shape(std::move(shape_in)), strides(std::move(strides_in)) {
    DLTensor dl{};
    dl.data = bytes.empty() ? nullptr : bytes.data();
    dl.device = DLDevice{kDLCPU, 0};
    dl.ndim = static_cast<int32_t>(shape.size());
    dl.dtype = dtype;
    dl.shape = shape.data();
    dl.strides = strides.empty() ? nullptr : strides.data();
    dl.byte_offset = byte_offset;
    versioned.version = DLPackVersion{1, 1};
    versioned.manager_ctx = &deletes;
    versioned.deleter = [](DLManagedTensorVersioned* self) {
      ++*static_cast<int*>(self->manager_ctx);
    };
    versioned.dl_tensor = dl;
    legacy.dl_tensor = dl;
    legacy.manager_ctx = &deletes;
    legacy.deleter = [](DLManagedTensor* self) { ++*static_cast<int*>(self->manager_ctx); };
  }
  // Both structs describe the same tensor; tests edit it through this.
  template <typename F>
  void Edit(F f) {
    f(versioned.dl_tensor);
    f(legacy.dl_tensor);
  }
};

// The bytes of `values`, as a producer holds them.
template <typename T>
std::vector<uint8_t> Bytes(const std::vector<T>& values) {
  std::vector<uint8_t> out(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// The dense array a strided view of `values` means: element (i0, i1, ...) is
// values[first + sum_k i_k * strides[k]].
template <typename T>
NDArray Expected(const std::vector<T>& values, int64_t first, const Shape& shape,
                 const Shape& strides) {
  NDArray out(dtype_of<T>(), shape);
  for (int64_t k = 0; k < out.size(); ++k) {
    const Shape i = testing::Unravel(k, shape);
    int64_t at = first;
    for (size_t d = 0; d < shape.size(); ++d) at += i[d] * strides[d];
    out.data<T>()[k] = values[static_cast<size_t>(at)];
  }
  return out;
}

std::vector<double> Ramp(int64_t n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) v[static_cast<size_t>(k)] = static_cast<double>(k) + 0.25;
  return v;
}

class DLPackTest : public testing::OnNodes {};

// Layouts of the round trips: 0-d, empty, odd lengths; whole, uneven and one-element blocks.
const std::vector<testing::Layout>& Layouts() {
  static const std::vector<testing::Layout> kLayouts = {
      {{}, {}},
      {{0}, {1}},
      {{0, 3}, {1, 2}},
      {{1}, {1}},
      {{7}, {7}},
      {{7}, {3}},
      {{5, 4}, {2, 3}},
      {{5, 4}, {1, 1}},
      {{3, 1, 5}, {2, 1, 2}},
      {{2, 3, 4}, {2, 3, 4}},
      {{4, 0, 2}, {2, 1, 1}},
  };
  return kLayouts;
}

TEST_P(DLPackTest, BlockArrayRoundTripsEveryDTypeBitForBit) {
  uint64_t seed = 1;
  for (DType t : AllDTypes()) {
    for (const auto& layout : Layouts()) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + shape_str(layout.shape) + " in " +
                   shape_str(layout.block));
      const NDArray x = testing::SpecialNDArray(layout.shape, t, seed++);
      const BlockArray a = from_ndarray(x, layout.block);
      DLManagedTensorVersioned* m = to_dlpack(a);
      ASSERT_NE(m, nullptr);
      EXPECT_EQ(m->version.major, 1u);
      EXPECT_EQ(m->version.minor, 1u);
      EXPECT_EQ(m->flags, DLPACK_FLAG_BITMASK_IS_COPIED);  // gathered: a copy, writable
      ASSERT_NE(m->deleter, nullptr);
      const DLTensor& dl = m->dl_tensor;
      EXPECT_EQ(dl.device.device_type, kDLCPU);
      EXPECT_EQ(dl.device.device_id, 0);
      EXPECT_EQ(dl.ndim, static_cast<int32_t>(x.ndim()));
      EXPECT_EQ(dl.dtype.code, dlpack_dtype(t).code);
      EXPECT_EQ(dl.dtype.bits, 8 * itemsize(t));
      EXPECT_EQ(dl.dtype.lanes, 1);
      EXPECT_EQ(dl.byte_offset, 0u);
      EXPECT_EQ(Shape(dl.shape, dl.shape + dl.ndim), x.shape());
      EXPECT_EQ(Shape(dl.strides, dl.strides + dl.ndim), testing::Strides(x.shape()));
      EXPECT_EQ(dl.data == nullptr, x.size() == 0);
      // Back in another block shape (the default rule), then gathered.
      const BlockArray b = from_dlpack(m);
      EXPECT_EQ(b.dtype(), t);
      EXPECT_EQ(b.shape(), x.shape());
      EXPECT_SAME_BYTES(b.get(), x);
      // Back in the original block shape.
      const BlockArray c = from_dlpack(to_dlpack(a), layout.block);
      EXPECT_EQ(c.block_shape(), a.block_shape());
      EXPECT_SAME_BYTES(c.get(), x);
    }
  }
}

TEST_P(DLPackTest, NDArrayIsLentWithoutACopy) {
  uint64_t seed = 100;
  for (DType t : AllDTypes()) {
    for (const auto& layout : Layouts()) {
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + shape_str(layout.shape));
      const NDArray x = testing::SpecialNDArray(layout.shape, t, seed++);
      DLManagedTensorVersioned* m = to_dlpack(x);
      EXPECT_EQ(m->flags, 0u);  // shares x's bytes: neither read-only nor a copy
      if (x.size() > 0) {
        EXPECT_EQ(m->dl_tensor.data, x.raw());
      } else {
        EXPECT_EQ(m->dl_tensor.data, nullptr);
      }
      const NDArray y = ndarray_from_dlpack(m);
      EXPECT_SAME_BYTES(y, x);
      if (x.size() > 0) {
        EXPECT_NE(y.raw(), x.raw());  // nums's reader copies
      }
    }
  }
}

TEST_P(DLPackTest, LentTensorKeepsTheBytesAliveAndWritesShowInTheArray) {
  DLManagedTensorVersioned* m = nullptr;
  {
    NDArray x = NDArray::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
    m = to_dlpack(x);
    static_cast<int64_t*>(m->dl_tensor.data)[4] = 50;  // the consumer writes
    EXPECT_EQ(x.at<int64_t>({1, 1}), 50);
  }
  // The array is gone; the tensor still owns its bytes, shape and strides.
  ASSERT_EQ(m->dl_tensor.ndim, 2);
  EXPECT_EQ(m->dl_tensor.shape[1], 3);
  EXPECT_EQ(m->dl_tensor.strides[0], 3);
  EXPECT_EQ(static_cast<int64_t*>(m->dl_tensor.data)[5], 6);
  m->deleter(m);
}

TEST_P(DLPackTest, DTypesMapBothWays) {
  for (DType t : AllDTypes()) EXPECT_EQ(dtype_from_dlpack(dlpack_dtype(t)), t);
  EXPECT_EQ(dlpack_dtype(bool_).code, kDLBool);
  EXPECT_EQ(dlpack_dtype(bool_).bits, 8);
  EXPECT_EQ(dlpack_dtype(float16).code, kDLFloat);
  EXPECT_EQ(dlpack_dtype(float16).bits, 16);
  EXPECT_EQ(dlpack_dtype(uint32).code, kDLUInt);
  EXPECT_EQ(dlpack_dtype(int8).code, kDLInt);
  EXPECT_EQ(dlpack_dtype(int8).bits, 8);
}

// Strided views hand-built over a buffer, read into BlockArrays of several block shapes and into
// NDArrays, through both structs: each against its meaning computed index by index.
TEST_P(DLPackTest, ReadsAnyStridesAndOffsets) {
  const std::vector<double> buf = Ramp(48);
  struct View {
    std::string name;
    int64_t first;  // element of buf where index (0, ...) is
    Shape shape, strides;
  };
  const std::vector<View> views = {
      {"column-major 4x6", 0, {4, 6}, {1, 4}},
      {"every other column of 4x8", 0, {4, 4}, {8, 2}},
      {"rows reversed", 40, {6, 8}, {-8, 1}},
      {"both axes reversed", 47, {6, 8}, {-8, -1}},
      {"reversed with step -3", 45, {16}, {-3}},
      {"offset 3-d slab", 5, {2, 3, 2}, {20, 6, 2}},
      {"broadcast row (stride 0)", 8, {5, 4}, {0, 1}},
      {"size-1 axes with odd strides", 7, {1, 3, 1}, {1000, 5, -77}},
      {"0-d at an offset", 13, {}, {}},
      {"empty with odd strides", 0, {3, 0}, {-5, 9}},
  };
  for (const View& v : views) {
    SCOPED_TRACE(v.name);
    const NDArray want = Expected(buf, v.first, v.shape, v.strides);
    for (bool legacy : {false, true}) {
      for (const Shape& block : {Shape{}, Shape(v.shape.size(), 1), Shape(v.shape.size(), 2)}) {
        Producer p({kDLFloat, 64, 1}, v.shape, v.strides, Bytes(buf),
                   static_cast<uint64_t>(v.first) * sizeof(double));
        const BlockArray got =
            legacy ? from_dlpack(&p.legacy, block) : from_dlpack(&p.versioned, block);
        EXPECT_EQ(p.deletes, 1);
        EXPECT_SAME_BYTES(got.get(), want);
      }
      Producer p({kDLFloat, 64, 1}, v.shape, v.strides, Bytes(buf),
                 static_cast<uint64_t>(v.first) * sizeof(double));
      const NDArray got =
          legacy ? ndarray_from_dlpack(&p.legacy) : ndarray_from_dlpack(&p.versioned);
      EXPECT_EQ(p.deletes, 1);
      EXPECT_SAME_BYTES(got, want);
    }
  }
}

TEST_P(DLPackTest, NullStridesAreRowMajor) {
  const std::vector<int32_t> vals = {1, -2, 3, -4, 5, -6};
  Producer p({kDLInt, 32, 1}, {2, 3}, {}, Bytes(vals));
  EXPECT_SAME_BYTES(from_dlpack(&p.versioned, {1, 2}).get(), NDArray::from_vector(vals, {2, 3}));
  EXPECT_EQ(p.deletes, 1);
  Producer q({kDLInt, 32, 1}, {2, 3}, {}, Bytes(vals));
  EXPECT_SAME_BYTES(ndarray_from_dlpack(&q.legacy), NDArray::from_vector(vals, {2, 3}));
  EXPECT_EQ(q.deletes, 1);
}

// Every dtype read from a strided, reversed view: the element bytes move unchanged.
TEST_P(DLPackTest, ReadsEveryDTypeStrided) {
  uint64_t seed = 200;
  for (DType t : AllDTypes()) {
    SCOPED_TRACE(dtype_name(t));
    const NDArray src = testing::SpecialNDArray({5, 6}, t, seed++);
    const int64_t item = itemsize(t);
    std::vector<uint8_t> bytes(static_cast<const uint8_t*>(src.raw()),
                               static_cast<const uint8_t*>(src.raw()) + src.nbytes());
    // The transpose with its columns reversed: element (i, j) of the 6x5 view is src(4 - j, i),
    // at element 4 * 6 + i - 6 * j of the buffer.
    Producer p(dlpack_dtype(t), {6, 5}, {1, -6}, bytes, static_cast<uint64_t>(4 * 6 * item));
    NDArray want(t, {6, 5});
    for (int64_t i = 0; i < 6; ++i) {
      for (int64_t j = 0; j < 5; ++j) {
        std::memcpy(static_cast<uint8_t*>(want.raw()) + (i * 5 + j) * item,
                    static_cast<const uint8_t*>(src.raw()) + ((4 - j) * 6 + i) * item,
                    static_cast<size_t>(item));
      }
    }
    EXPECT_SAME_BYTES(from_dlpack(&p.versioned, {4, 2}).get(), want);
    EXPECT_EQ(p.deletes, 1);
  }
}

TEST_P(DLPackTest, UnalignedCompactDataIsRead) {
  // int32 elements starting one byte into the buffer: read by bytes, not as int32 pointers.
  const std::vector<int32_t> vals = {7, -8, 9, 100000, -3};
  std::vector<uint8_t> bytes(1 + vals.size() * 4, 0xee);
  std::memcpy(bytes.data() + 1, vals.data(), vals.size() * 4);
  Producer p({kDLInt, 32, 1}, {5}, {1}, bytes, 1);
  EXPECT_SAME_BYTES(from_dlpack(&p.versioned, {2}).get(), NDArray::from_vector(vals));
  EXPECT_EQ(p.deletes, 1);
}

TEST_P(DLPackTest, BoolBytesOtherThanOneAreTrue) {
  const std::vector<uint8_t> bytes = {0, 1, 2, 255, 0, 128};
  Producer p({kDLBool, 8, 1}, {2, 3}, {3, 1}, bytes);
  const NDArray got = from_dlpack(&p.versioned, {1, 2}).get();
  EXPECT_SAME_BYTES(got,
                    NDArray::from_vector<bool>({false, true, true, true, false, true}, {2, 3}));
  EXPECT_EQ(p.deletes, 1);
  Producer q({kDLBool, 8, 1}, {6}, {}, bytes);
  EXPECT_EQ(ndarray_from_dlpack(&q.legacy).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, 1, 1, 0, 1}));
}

TEST_P(DLPackTest, Float16IsReadAsItsBits) {
  const std::vector<uint16_t> bits = {0x3c00, 0xc000, 0x7e00, 0x8000, 0x7c00};  // 1 -2 nan -0 inf
  Producer p({kDLFloat, 16, 1}, {5}, {}, Bytes(bits));
  const NDArray got = from_dlpack(&p.versioned).get();
  ASSERT_EQ(got.dtype(), float16);
  for (size_t k = 0; k < bits.size(); ++k) EXPECT_EQ(got.data<half>()[k].bits, bits[k]);
}

TEST_P(DLPackTest, PinnedHostMemoryIsRead) {
  for (DLDeviceType d : {kDLCUDAHost, kDLROCMHost}) {
    Producer p({kDLFloat, 32, 1}, {3}, {}, Bytes(std::vector<float>{1.5f, 2.5f, 3.5f}));
    p.Edit([&](DLTensor& dl) { dl.device = DLDevice{d, 0}; });
    EXPECT_EQ(from_dlpack(&p.versioned).get().to_vector<double>(),
              (std::vector<double>{1.5, 2.5, 3.5}));
    EXPECT_EQ(p.deletes, 1);
  }
}

TEST_P(DLPackTest, ANullDeleterIsNotCalled) {
  Producer p({kDLUInt, 8, 1}, {3}, {}, {4, 5, 6});
  p.versioned.deleter = nullptr;
  p.legacy.deleter = nullptr;
  EXPECT_EQ(from_dlpack(&p.versioned).get().to_vector<int64_t>(), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(ndarray_from_dlpack(&p.legacy).to_vector<int64_t>(), (std::vector<int64_t>{4, 5, 6}));
  p.Edit([](DLTensor& dl) { dl.device.device_type = kDLCUDA; });
  EXPECT_THROW(from_dlpack(&p.versioned), ValueError);
  EXPECT_EQ(p.deletes, 0);
}

TEST_P(DLPackTest, NewerMinorVersionIsRead) {
  Producer p({kDLInt, 64, 1}, {2}, {}, Bytes(std::vector<int64_t>{3, 4}));
  p.versioned.version = DLPackVersion{1, 7};
  EXPECT_EQ(from_dlpack(&p.versioned).get().to_vector<int64_t>(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(p.deletes, 1);
}

// Every way a tensor is refused: the exception type, its message, and the deleter called once
// (through every entry point that takes the tensor).
TEST_P(DLPackTest, ErrorsNameTheProblemAndReturnTheTensor) {
  struct Case {
    std::string name;
    std::function<void(Producer&)> spoil;
    std::vector<std::string> message;
    bool dtype_error = false;
    bool versioned_only = false;
  };
  const std::vector<Case> cases = {
      {"major version 2",
       [](Producer& p) {
         p.versioned.version = DLPackVersion{2, 0};
       },
       {"from_dlpack", "DLPack version 2.0 not supported", "major version 1"},
       false,
       true},
      {"major version 0",
       [](Producer& p) {
         p.versioned.version = DLPackVersion{0, 8};
       },
       {"DLPack version 0.8 not supported"},
       false,
       true},
      {"a CUDA tensor",
       [](Producer& p) { p.Edit([](DLTensor& dl) {
                           dl.device = DLDevice{kDLCUDA, 1};
                         }); },
       {"device kDLCUDA (type 2, id 1)", "host memory only"}},
      {"a managed CUDA tensor",
       [](Producer& p) { p.Edit([](DLTensor& dl) { dl.device.device_type = kDLCUDAManaged; }); },
       {"device kDLCUDAManaged (type 13"}},
      {"an unknown device",
       [](Producer& p) {
         p.Edit([](DLTensor& dl) { dl.device.device_type = static_cast<DLDeviceType>(99); });
       },
       {"unknown device (type 99, id 0)"}},
      {"negative ndim",
       [](Producer& p) { p.Edit([](DLTensor& dl) { dl.ndim = -1; }); },
       {"negative ndim -1"}},
      {"null shape",
       [](Producer& p) { p.Edit([](DLTensor& dl) { dl.shape = nullptr; }); },
       {"null shape pointer", "ndim 2"}},
      {"negative dimension",
       [](Producer& p) { p.shape[1] = -2; },
       {"negative dimension -2", "(2, -2)"}},
      {"strides past int64",
       [](Producer& p) {
         p.strides = {INT64_MAX / 2, 1};
         p.Edit([&](DLTensor& dl) { dl.strides = p.strides.data(); });
       },
       {"strides (4611686018427387903, 1) of shape (2, 3) reach past 2^63 bytes"}},
      {"null data",
       [](Producer& p) { p.Edit([](DLTensor& dl) { dl.data = nullptr; }); },
       {"null data pointer", "(2, 3)"}},
      {"bfloat16",
       [](Producer& p) { p.Edit([](DLTensor& dl) {
                           dl.dtype = DLDataType{kDLBfloat, 16, 1};
                         }); },
       {"no nums dtype", "code 4 (kDLBfloat), bits 16, lanes 1"},
       true},
      {"complex64",
       [](Producer& p) { p.Edit([](DLTensor& dl) {
                           dl.dtype = DLDataType{kDLComplex, 64, 1};
                         }); },
       {"code 5 (kDLComplex), bits 64"},
       true},
      {"float32 x4 lanes",
       [](Producer& p) { p.Edit([](DLTensor& dl) {
                           dl.dtype = DLDataType{kDLFloat, 32, 4};
                         }); },
       {"code 2 (kDLFloat), bits 32, lanes 4"},
       true},
      {"12-bit int",
       [](Producer& p) { p.Edit([](DLTensor& dl) {
                           dl.dtype = DLDataType{kDLInt, 12, 1};
                         }); },
       {"code 0 (kDLInt), bits 12"},
       true},
      {"8-bit float",
       [](Producer& p) { p.Edit([](DLTensor& dl) {
                           dl.dtype = DLDataType{kDLFloat, 8, 1};
                         }); },
       {"code 2 (kDLFloat), bits 8"},
       true},
      {"1-bit bool",
       [](Producer& p) { p.Edit([](DLTensor& dl) {
                           dl.dtype = DLDataType{kDLBool, 1, 1};
                         }); },
       {"code 6 (kDLBool), bits 1"},
       true},
      {"unknown code",
       [](Producer& p) { p.Edit([](DLTensor& dl) {
                           dl.dtype = DLDataType{200, 32, 1};
                         }); },
       {"code 200 (unknown)"},
       true},
  };
  const std::vector<uint8_t> bytes(6 * 8, 0);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    for (int entry = 0; entry < 4; ++entry) {
      const bool legacy = entry >= 2;
      if (legacy && c.versioned_only) continue;
      Producer p({kDLFloat, 64, 1}, {2, 3}, {}, bytes);
      c.spoil(p);
      std::function<void()> call;
      switch (entry) {
        case 0:
          call = [&] { from_dlpack(&p.versioned); };
          break;
        case 1:
          call = [&] { ndarray_from_dlpack(&p.versioned); };
          break;
        case 2:
          call = [&] { from_dlpack(&p.legacy, {1, 1}); };
          break;
        default:
          call = [&] { ndarray_from_dlpack(&p.legacy); };
          break;
      }
      if (c.dtype_error) {
        ExpectThrowWith<DTypeError>(call, c.message);
      } else {
        ExpectThrowWith<ValueError>(call, c.message);
      }
      EXPECT_EQ(p.deletes, 1) << "entry " << entry;
    }
  }
}

TEST_P(DLPackTest, NullPointersAreValueErrors) {
  ExpectThrowWith<ValueError>([] { from_dlpack(static_cast<DLManagedTensorVersioned*>(nullptr)); },
                              {"from_dlpack", "null DLManagedTensorVersioned pointer"});
  ExpectThrowWith<ValueError>([] { from_dlpack(static_cast<DLManagedTensor*>(nullptr)); },
                              {"null DLManagedTensor pointer"});
  ExpectThrowWith<ValueError>(
      [] { ndarray_from_dlpack(static_cast<DLManagedTensorVersioned*>(nullptr)); },
      {"null DLManagedTensorVersioned pointer"});
  ExpectThrowWith<ValueError>([] { ndarray_from_dlpack(static_cast<DLManagedTensor*>(nullptr)); },
                              {"null DLManagedTensor pointer"});
}

TEST_P(DLPackTest, ABadBlockShapeStillReturnsTheTensor) {
  for (bool strided : {false, true}) {
    Producer p({kDLFloat, 64, 1}, {2, 3}, strided ? Shape{1, 2} : Shape{}, Bytes(Ramp(6)));
    EXPECT_THROW(from_dlpack(&p.versioned, {1, 2, 3}), Error);
    EXPECT_EQ(p.deletes, 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Nodes, DLPackTest, ::testing::Values(1, 3));

}  // namespace
}  // namespace nums
