#include "io/write_commit.h"

#include "io/file_util.h"
#include "src/context_impl.h"

namespace nums::io {

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
