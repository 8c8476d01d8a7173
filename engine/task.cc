#include "engine/task.h"

#include <algorithm>

#include "nums/errors.hpp"

namespace nums::engine {

TaskRecord::~TaskRecord() {
  std::vector<std::shared_ptr<const TaskRecord>> orphans;
  auto unlink = [&orphans](TaskRecord& record) {
    for (auto& arg : record.args) {
      if (auto* in = std::get_if<ObjectArg>(&arg); in && in->producer) {
        orphans.push_back(std::move(in->producer));
      }
    }
  };
  unlink(*this);
  while (!orphans.empty()) {
    std::shared_ptr<const TaskRecord> record = std::move(orphans.back());
    orphans.pop_back();
    // The last owner may take its producers before it goes (no weak refs to records exist).
    if (record.use_count() == 1) unlink(const_cast<TaskRecord&>(*record));
  }
}

int64_t TaskRecord::DeclaredBytes() const {
  int64_t n = scratch_bytes;
  for (const OutputSpec& out : outputs) {
    if (__builtin_add_overflow(n, out.nbytes(), &n)) {
      throw ValueError("task '" + name + "' declares more bytes than fit in memory");
    }
  }
  return n;
}

void CheckRecomputable(const TaskRecord& task) {
  if (!task.recomputable) return;
  const bool inputs = std::any_of(task.args.begin(), task.args.end(), [](const auto& a) {
    return std::holds_alternative<ObjectArg>(a);
  });
  if (inputs || task.outputs.size() != 1 || task.outputs[0].upper_bound) {
    throw ValueError("task '" + task.name +
                     "' is marked recomputable but has block arguments or does not declare "
                     "exactly one output of known shape");
  }
}

std::shared_ptr<TaskRecord> MakeTaskRecord(TaskSpec spec, ObjectIdGenerator& ids,
                                           std::vector<ObjectRef>& pins,
                                           const std::function<NodeId(const ObjectRef&)>& source) {
  auto record = std::make_shared<TaskRecord>();
  record->kernel = std::move(spec.kernel);
  record->name = spec.name.empty() ? record->kernel : std::move(spec.name);
  if (spec.num_returns < 0) {
    throw ValueError("submit '" + record->name + "': negative num_returns " +
                     std::to_string(spec.num_returns));
  }
  record->device = spec.device;
  record->device_pinned = spec.device_pinned;
  record->node = spec.node;
  record->args.reserve(spec.args.size());
  pins.reserve(pins.size() + static_cast<size_t>(std::count_if(
                                 spec.args.begin(), spec.args.end(), [](const TaskArg& a) {
                                   return std::holds_alternative<ObjectRef>(a);
                                 })));
  for (size_t i = 0; i < spec.args.size(); ++i) {
    if (auto* ref = std::get_if<ObjectRef>(&spec.args[i])) {
      if (!*ref) {
        throw ValueError("submit '" + record->name + "': argument " + std::to_string(i) +
                         " is a null ObjectRef");
      }
      record->args.emplace_back(ObjectArg{ref->id(), source(*ref), ref->lineage()});
      pins.push_back(std::move(*ref));
    } else {
      record->args.emplace_back(std::move(std::get<Scalar>(spec.args[i])));
    }
  }
  if (!spec.outputs.empty() && static_cast<int64_t>(spec.outputs.size()) != spec.num_returns) {
    throw ValueError("submit '" + record->name + "': " + std::to_string(spec.outputs.size()) +
                     " output specs for " + std::to_string(spec.num_returns) + " returns");
  }
  if (spec.scratch_bytes < 0) {
    throw ValueError("submit '" + record->name + "': negative scratch_bytes " +
                     std::to_string(spec.scratch_bytes));
  }
  for (const OutputSpec& out : spec.outputs) out.nbytes();  // checks the shape
  record->outputs = std::move(spec.outputs);
  record->scratch_bytes = spec.scratch_bytes;
  record->io = spec.io;
  record->recomputable = spec.recomputable;
  CheckRecomputable(*record);
  record->returns.reserve(static_cast<size_t>(spec.num_returns));
  for (int64_t i = 0; i < spec.num_returns; ++i) record->returns.push_back(ids.Next());
  return record;
}

}  // namespace nums::engine
