#include "io/write_commit.h"

#include "io/file_util.h"
#include "src/array_impl.h"

namespace nums::io {

const BlockArray::Impl& ArrayOf(const BlockArray& x, const char* op) {
  if (!x.impl())
    throw ValueError(std::string(op) + ": the BlockArray is empty (default-constructed)");
  return *x.impl();
}

WriteCommit TempFileCommit(const std::string& temp, const std::string& path) {
  return {[temp, path] { CommitTempFile(temp, path); }, [temp] { RemoveQuietly(temp); }};
}

void WriteBlocks(Context::Impl& ctx, const BlockArray::Impl& x, const BlockWriteSpec& spec_for,
                 const WriteCommit& commit) {
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
    try {  // no task may still write when the abort runs; the submission's error is reported
      if (!acks.empty()) ctx.runtime->Wait(acks, static_cast<int64_t>(acks.size()));
    } catch (...) {
    }
    commit.abort();
    throw;
  }
  try {
    if (!acks.empty()) {
      ctx.runtime->Wait(acks, static_cast<int64_t>(acks.size()));
      ctx.runtime->Get(acks);
    }
    commit.commit();
  } catch (...) {
    commit.abort();
    throw;
  }
}

}  // namespace nums::io
