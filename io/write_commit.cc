#include "io/write_commit.h"

#include "io/file_util.h"
#include "src/array_impl.h"

namespace nums::io {

const BlockArray::Impl& ArrayOf(const BlockArray& x, const char* op) {
  if (!x.impl())
    throw ValueError(std::string(op) + ": the BlockArray is empty (default-constructed)");
  return *x.impl();
}

void WriteBlocks(Context::Impl& ctx, const BlockArray::Impl& x, const std::string& temp,
                 const std::string& path, const BlockWriteSpec& spec_for) {
  const ArrayGrid& grid = x.grid;
  std::vector<engine::ObjectRef> acks;
  acks.reserve(x.blocks.size());
  try {
    engine::SubmitBatch batch(*ctx.runtime);
    detail::for_each_entry(grid.grid_shape(), [&](const Shape& e) {
      const engine::ObjectRef& block = x.blocks[static_cast<size_t>(grid.flat(e))];
      engine::TaskSpec spec = spec_for(e, block);
      spec.node = ctx.runtime->Location(block);
      spec.num_returns = 1;
      spec.outputs = {engine::OutputSpec{DType::kInt64, {}}};
      spec.io = true;
      acks.push_back(ctx.runtime->Submit(std::move(spec))[0]);
    });
    batch.Send();
  } catch (...) {
    try {  // no task may still write to `temp` when it goes; the submission's error is reported
      if (!acks.empty()) ctx.runtime->Wait(acks, static_cast<int64_t>(acks.size()));
    } catch (...) {
    }
    RemoveQuietly(temp);
    throw;
  }
  try {
    if (!acks.empty()) {
      ctx.runtime->Wait(acks, static_cast<int64_t>(acks.size()));
      ctx.runtime->Get(acks);
    }
    CommitTempFile(temp, path);
  } catch (...) {
    RemoveQuietly(temp);
    throw;
  }
}

}  // namespace nums::io
