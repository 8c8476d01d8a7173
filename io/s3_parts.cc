#include "io/s3_parts.h"

#include <cstring>
#include <vector>

#include "io/kernels.h"
#include "io/s3.h"
#include "nums/errors.hpp"

namespace nums::io {
namespace {

using engine::Block;
using engine::KernelContext;

// Input: the part's block. Scalars: the URL, the upload id, the part number, and bytes to send
// before the block (the .npy header, in part 1). Output: the part's ETag (kETagChars int64).
std::vector<Block> PutPart(const KernelContext& k) {
  const auto& url = k.scalar<std::string>(0);
  const auto& upload_id = k.scalar<std::string>(1);
  const int64_t part = k.scalar<int64_t>(2);
  const auto& prefix = k.scalar<std::string>(3);
  if (k.inputs.size() != 1) throw ValueError("io.s3.put_part takes one block");
  const Block& in = k.inputs[0];
  const S3Location loc = ParseS3Url(url);
  std::string etag;
  if (prefix.empty()) {
    etag = S3UploadPart(loc, upload_id, part, in.raw(), in.nbytes());
  } else {
    std::string bytes = prefix;
    bytes.append(static_cast<const char*>(in.raw()), static_cast<size_t>(in.nbytes()));
    etag = S3UploadPart(loc, upload_id, part, bytes.data(), static_cast<int64_t>(bytes.size()));
  }
  if (static_cast<int64_t>(etag.size()) > kETagChars) {
    throw IOError("S3 PUT " + url + " part " + std::to_string(part) + ": an ETag of " +
                  std::to_string(etag.size()) + " characters is longer than " +
                  std::to_string(kETagChars));
  }
  Block ack = Block::Allocate(DType::kInt64, {kETagChars});
  int64_t* out = ack.data<int64_t>();
  for (int64_t i = 0; i < kETagChars; ++i) {
    out[i] = i < static_cast<int64_t>(etag.size()) ? static_cast<unsigned char>(etag[i]) : 0;
  }
  return {ack};
}

}  // namespace

std::string DecodeETag(const Block& ack) {
  if (ack.dtype() != DType::kInt64 || ack.size() != kETagChars) {
    throw IOError("a multipart upload's part acknowledgement is not an ETag");
  }
  std::string etag;
  const int64_t* c = ack.data<int64_t>();
  for (int64_t i = 0; i < kETagChars && c[i] != 0; ++i) etag += static_cast<char>(c[i]);
  if (etag.empty()) throw IOError("a multipart upload's part came back without an ETag");
  return etag;
}

void RegisterS3Kernels(engine::KernelRegistry& registry) {
  registry.Register("io.s3.put_part", engine::Device::kCpu, PutPart);
}

}  // namespace nums::io
