#include "io/write_commit.h"

#include "io/file_util.h"
#include "src/array_impl.h"

namespace nums::io {

const BlockArray::Impl& ArrayOf(const BlockArray& x, const char* op) {
  if (!x.impl())
    throw ValueError(std::string(op) + ": the BlockArray is empty (default-constructed)");
  return *x.impl();
}

void AbortWrite(Context::Impl& ctx, const std::vector<engine::ObjectRef>& acks,
                const std::string& temp) noexcept {
  try {
    if (!acks.empty()) ctx.runtime->Wait(acks, static_cast<int64_t>(acks.size()));
  } catch (...) {  // the submission's error is the one to report
  }
  RemoveQuietly(temp);
}

void FinishWrite(Context::Impl& ctx, const std::vector<engine::ObjectRef>& acks,
                 const std::string& temp, const std::function<void()>& commit) {
  try {
    if (!acks.empty()) {
      ctx.runtime->Wait(acks, static_cast<int64_t>(acks.size()));
      ctx.runtime->Get(acks);
    }
    commit();
  } catch (...) {
    RemoveQuietly(temp);
    throw;
  }
}

}  // namespace nums::io
