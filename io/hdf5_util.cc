#include "io/hdf5_util.h"

#include <H5FDros3.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "io/s3.h"
#include "io/s3_config.h"
#include "io/storage.h"
#include "nums/errors.hpp"

namespace nums::io {
namespace {

std::mutex hdf5_mu;  // guards every call into libhdf5 from this process
std::atomic<int64_t> hdf5_acquisitions{0};

std::string Named(const std::string& path, const std::string& dataset) {
  return "dataset '" + dataset + "' of HDF5 file '" + path + "'";
}

}  // namespace

int64_t Hdf5Lock::Acquisitions() { return hdf5_acquisitions.load(); }

Hdf5Lock::Hdf5Lock() : lock_(hdf5_mu) {
  hdf5_acquisitions.fetch_add(1, std::memory_order_relaxed);
  // Once per process would do in a serial build; it is cheap, and init may have been reset.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

std::string Hdf5ErrorText() {
  std::string text;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* out) -> herr_t {
        auto* s = static_cast<std::string*>(out);
        if (n == 0 && err->desc != nullptr) *s = err->desc;
        return 0;
      },
      &text);
  H5Eclear2(H5E_DEFAULT);
  return text;
}

Hid FileAccess() {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_file_locking(fapl.get(), false, true);
  return fapl;
}

namespace {

// An S3 object through HDF5's read-only S3 driver (ROS3), addressed and signed with this
// process's S3 settings (ROS3 signs with SigV4 itself; it takes no session token).
Hid OpenHdf5Object(const std::string& url, bool write, const std::string& dataset) {
  if (write) {
    throw IOError("cannot write HDF5 file '" + url +
                  "': HDF5 reads S3 objects but cannot write them (write .npy or zarr to S3, "
                  "or write HDF5 locally)");
  }
  const S3Location loc = ParseS3Url(url);
  if (!S3Head(loc)) {
    throw IOError("cannot open HDF5 file '" + url + "' (for dataset '" + dataset +
                  "'): the object does not exist (NoSuchKey)");
  }
  const S3Config config = LoadS3Config();
  if (!config.session_token.empty()) {
    throw IOError("cannot open HDF5 file '" + url +
                  "': HDF5's S3 driver cannot sign with a session token (AWS_SESSION_TOKEN)");
  }
  H5FD_ros3_fapl_t ros3{};
  ros3.version = H5FD_CURR_ROS3_FAPL_T_VERSION;
  ros3.authenticate = !config.access_key.empty();
  auto copy = [](char* dst, size_t cap, const std::string& v, const char* what) {
    if (v.size() >= cap) throw IOError(std::string("the S3 ") + what + " is too long for HDF5");
    std::memcpy(dst, v.c_str(), v.size() + 1);
  };
  copy(ros3.aws_region, sizeof(ros3.aws_region), config.region, "region");
  copy(ros3.secret_id, sizeof(ros3.secret_id), config.access_key, "access key id");
  copy(ros3.secret_key, sizeof(ros3.secret_key), config.secret_key, "secret key");
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (H5Pset_fapl_ros3(fapl.get(), &ros3) < 0) {
    throw IOError("HDF5's S3 driver is not available for '" + url + "': " + Hdf5ErrorText());
  }
  const std::string http = S3HttpUrl(loc, config);
  Hid file(H5Fopen(http.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!file.valid()) {
    throw IOError("cannot open HDF5 file '" + url + "' (for dataset '" + dataset +
                  "') through HDF5's S3 driver at " + http +
                  " (not an HDF5 file, or refused): " + Hdf5ErrorText());
  }
  return file;
}

}  // namespace

Hid OpenHdf5File(const std::string& path, bool write, const std::string& dataset) {
  if (IsS3Url(path)) return OpenHdf5Object(path, write, dataset);
  // HDF5's message for a missing file is long and vague; errno says it plainly.
  FILE* probe = std::fopen(path.c_str(), write ? "r+b" : "rb");
  if (probe == nullptr) {
    throw IOError("cannot open HDF5 file '" + path + "' (for dataset '" + dataset +
                  "'): " + std::strerror(errno));
  }
  std::fclose(probe);
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    Hdf5ErrorText();
    throw IOError("'" + path + "' is not an HDF5 file (looking for dataset '" + dataset + "')");
  }
  Hid fapl = FileAccess();
  Hid file(H5Fopen(path.c_str(), write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (!file.valid()) {
    throw IOError("cannot open HDF5 file '" + path + "' (for dataset '" + dataset +
                  "'): " + Hdf5ErrorText());
  }
  return file;
}

Hid OpenDataset(const Hid& file, const std::string& path, const std::string& dataset) {
  // Each link on the way must exist before H5Lexists may be asked about the next.
  std::string prefix = dataset.empty() || dataset[0] != '/' ? "" : "/";
  size_t pos = prefix.size();
  while (pos <= dataset.size()) {
    size_t next = dataset.find('/', pos);
    if (next == std::string::npos) next = dataset.size();
    if (next > pos) {
      prefix +=
          (prefix.empty() || prefix.back() == '/' ? "" : "/") + dataset.substr(pos, next - pos);
      if (H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
        Hdf5ErrorText();
        throw IOError(Named(path, dataset) + " does not exist (no '" + prefix + "')");
      }
    }
    pos = next + 1;
  }
  Hid obj(H5Oopen(file.get(), dataset.c_str(), H5P_DEFAULT), H5Oclose);
  if (!obj.valid()) {
    throw IOError("cannot open " + Named(path, dataset) + ": " + Hdf5ErrorText());
  }
  const H5I_type_t kind = H5Iget_type(obj.get());
  if (kind != H5I_DATASET) {
    throw IOError("'" + dataset + "' of HDF5 file '" + path + "' is " +
                  (kind == H5I_GROUP ? "a group" : "a named datatype") + ", not a dataset");
  }
  obj.Close();
  Hid ds(H5Dopen2(file.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) throw IOError("cannot open " + Named(path, dataset) + ": " + Hdf5ErrorText());
  return ds;
}

std::string Hdf5TypeName(hid_t type) {
  const size_t bits = H5Tget_size(type) * 8;
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_FLOAT:
      return "float" + std::to_string(bits);
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound (" + std::to_string(H5Tget_nmembers(type)) + " members)";
    case H5T_ENUM:
      return "enum of " + std::to_string(H5Tget_nmembers(type)) + " members";
    case H5T_ARRAY:
      return "array";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_BITFIELD:
      return "bitfield" + std::to_string(bits);
    case H5T_REFERENCE:
      return "reference";
    case H5T_VLEN:
      return "variable-length sequence";
    case H5T_TIME:
      return "time";
    default:
      return "unknown type class";
  }
}

namespace {

// h5py's bool: an enum over a 1-byte signed integer with exactly FALSE = 0 and TRUE = 1.
// h5py's complex128: a 16-byte compound of two 8-byte floats named "r" and "i", at 0 and 8.
bool IsH5pyComplex(hid_t type) {
  if (H5Tget_class(type) != H5T_COMPOUND || H5Tget_nmembers(type) != 2 || H5Tget_size(type) != 16) {
    return false;
  }
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    const std::string n = name ? name : "";
    H5free_memory(name);
    Hid member(H5Tget_member_type(type, i), H5Tclose);
    if (n != (i == 0 ? "r" : "i") || H5Tget_member_offset(type, i) != 8 * i ||
        H5Tget_class(member.get()) != H5T_FLOAT || H5Tget_size(member.get()) != 8) {
      return false;
    }
  }
  return true;
}

bool IsH5pyBool(hid_t type) {
  if (H5Tget_class(type) != H5T_ENUM || H5Tget_nmembers(type) != 2) return false;
  Hid base(H5Tget_super(type), H5Tclose);
  if (H5Tget_class(base.get()) != H5T_INTEGER || H5Tget_size(base.get()) != 1) return false;
  for (unsigned i = 0; i < 2; ++i) {
    char* name = H5Tget_member_name(type, i);
    int8_t value = -1;
    H5Tget_member_value(type, i, &value);
    const std::string n = name ? name : "";
    H5free_memory(name);
    if (!((n == "FALSE" && value == 0) || (n == "TRUE" && value == 1))) return false;
  }
  return true;
}

}  // namespace

DType DTypeOfHdf5(hid_t type, const std::string& path, const std::string& dataset) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      if (size == 8) return DType::kFloat64;
      if (size == 4) return DType::kFloat32;
      if (size == 2) return DType::kFloat16;
      break;
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type) != H5T_SGN_NONE;
      switch (size) {
        case 1:
          return is_signed ? DType::kInt8 : DType::kUInt8;
        case 2:
          return is_signed ? DType::kInt16 : DType::kUInt16;
        case 4:
          return is_signed ? DType::kInt32 : DType::kUInt32;
        case 8:
          return is_signed ? DType::kInt64 : DType::kUInt64;
        default:
          break;
      }
      break;
    }
    case H5T_ENUM:
      if (IsH5pyBool(type)) return DType::kBool;
      break;
    case H5T_COMPOUND:
      if (IsH5pyComplex(type)) return DType::kComplex128;
      break;
    default:
      break;
  }
  throw DTypeError(Named(path, dataset) + " has HDF5 type " + Hdf5TypeName(type) +
                   ", which nums does not read (float16/32/64, int8/16/32/64, uint8/16/32/64, "
                   "bool, complex128 as h5py writes it)");
}

namespace {

// IEEE binary16 little-endian, as h5py makes it (HDF5 1.10 has no predefined half type): sign
// bit 15, 5 exponent bits at 10 with bias 15, 10 mantissa bits at 0.
Hid HalfType() {
  Hid t(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
  H5Tset_fields(t.get(), 15, 10, 5, 0, 10);
  H5Tset_size(t.get(), 2);
  H5Tset_ebias(t.get(), 15);
  return t;
}

Hid ComplexType(hid_t part) {
  Hid t(H5Tcreate(H5T_COMPOUND, 16), H5Tclose);
  H5Tinsert(t.get(), "r", 0, part);
  H5Tinsert(t.get(), "i", 8, part);
  return t;
}

Hid BoolType() {
  Hid t(H5Tenum_create(H5T_NATIVE_INT8), H5Tclose);
  const int8_t f = 0, t1 = 1;
  H5Tenum_insert(t.get(), "FALSE", &f);
  H5Tenum_insert(t.get(), "TRUE", &t1);
  return t;
}

}  // namespace

Hid MemoryType(DType dtype) {
  switch (dtype) {
    case DType::kBool:
      return BoolType();
    case DType::kInt32:
      return Hid(H5Tcopy(H5T_NATIVE_INT32), H5Tclose);
    case DType::kInt64:
      return Hid(H5Tcopy(H5T_NATIVE_INT64), H5Tclose);
    case DType::kFloat32:
      return Hid(H5Tcopy(H5T_NATIVE_FLOAT), H5Tclose);
    case DType::kFloat64:
      return Hid(H5Tcopy(H5T_NATIVE_DOUBLE), H5Tclose);
    case DType::kInt8:
      return Hid(H5Tcopy(H5T_NATIVE_INT8), H5Tclose);
    case DType::kInt16:
      return Hid(H5Tcopy(H5T_NATIVE_INT16), H5Tclose);
    case DType::kUInt8:
      return Hid(H5Tcopy(H5T_NATIVE_UINT8), H5Tclose);
    case DType::kUInt16:
      return Hid(H5Tcopy(H5T_NATIVE_UINT16), H5Tclose);
    case DType::kUInt32:
      return Hid(H5Tcopy(H5T_NATIVE_UINT32), H5Tclose);
    case DType::kUInt64:
      return Hid(H5Tcopy(H5T_NATIVE_UINT64), H5Tclose);
    case DType::kFloat16:
      return HalfType();
    case DType::kComplex128:
      return ComplexType(H5T_NATIVE_DOUBLE);
  }
  throw_unknown_dtype(dtype);
}

Hid StorageType(DType dtype) {
  switch (dtype) {
    case DType::kBool:
      return BoolType();
    case DType::kInt32:
      return Hid(H5Tcopy(H5T_STD_I32LE), H5Tclose);
    case DType::kInt64:
      return Hid(H5Tcopy(H5T_STD_I64LE), H5Tclose);
    case DType::kFloat32:
      return Hid(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
    case DType::kFloat64:
      return Hid(H5Tcopy(H5T_IEEE_F64LE), H5Tclose);
    case DType::kInt8:
      return Hid(H5Tcopy(H5T_STD_I8LE), H5Tclose);
    case DType::kInt16:
      return Hid(H5Tcopy(H5T_STD_I16LE), H5Tclose);
    case DType::kUInt8:
      return Hid(H5Tcopy(H5T_STD_U8LE), H5Tclose);
    case DType::kUInt16:
      return Hid(H5Tcopy(H5T_STD_U16LE), H5Tclose);
    case DType::kUInt32:
      return Hid(H5Tcopy(H5T_STD_U32LE), H5Tclose);
    case DType::kUInt64:
      return Hid(H5Tcopy(H5T_STD_U64LE), H5Tclose);
    case DType::kFloat16:
      return HalfType();
    case DType::kComplex128:
      return ComplexType(H5T_IEEE_F64LE);
  }
  throw_unknown_dtype(dtype);
}

std::pair<Hid, Hid> BlockSpaces(const Hid& dataset, const engine::Shape& offset,
                                const engine::Shape& count) {
  Hid file_space(H5Dget_space(dataset.get()), H5Sclose);
  if (count.empty()) return {std::move(file_space), Hid(H5Screate(H5S_SCALAR), H5Sclose)};
  const std::vector<hsize_t> start(offset.begin(), offset.end()), n(count.begin(), count.end());
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, n.data(), nullptr);
  Hid mem_space(H5Screate_simple(static_cast<int>(n.size()), n.data(), nullptr), H5Sclose);
  return {std::move(file_space), std::move(mem_space)};
}

}  // namespace nums::io
