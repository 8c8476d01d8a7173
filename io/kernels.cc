#include "io/kernels.h"

#include "nums/errors.hpp"

namespace nums::io {

engine::Scalar VersionScalar(const ObjectVersion& version) {
  if (const auto* etag = std::get_if<std::string>(&version)) return *etag;
  if (const auto* id = std::get_if<std::vector<int64_t>>(&version)) return *id;
  return std::vector<int64_t>{};  // CheckFileIdentity takes an empty identity as "unchecked"
}

ObjectVersion VersionArg(const engine::KernelContext& k, size_t i) {
  if (i >= k.scalars.size()) return std::monostate{};
  if (const auto* etag = std::get_if<std::string>(&k.scalars[i])) return *etag;
  if (const auto* id = std::get_if<std::vector<int64_t>>(&k.scalars[i])) {
    if (id->empty()) return std::monostate{};
    return *id;
  }
  throw ValueError("an io read's version argument is neither a file identity nor an ETag");
}

engine::KernelFn NamingTheBlock(engine::KernelFn read, size_t offset_scalar, size_t count_scalar) {
  return [read = std::move(read), offset_scalar, count_scalar](const engine::KernelContext& k) {
    try {
      return read(k);
    } catch (const IOError& e) {
      throw IOError(std::string(e.what()) + " (reading the block at " +
                    engine::ShapeToString(k.scalar<std::vector<int64_t>>(offset_scalar)) +
                    " of shape " +
                    engine::ShapeToString(k.scalar<std::vector<int64_t>>(count_scalar)) + ")");
    }
  };
}

void RegisterIoKernels(engine::KernelRegistry& registry) {
  RegisterNpyKernels(registry);
  RegisterHdf5Kernels(registry);
  RegisterCsvKernels(registry);
  RegisterS3Kernels(registry);
  RegisterZarrKernels(registry);
}

}  // namespace nums::io
