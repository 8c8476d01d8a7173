#include "engine/runtime.h"

namespace nums::engine {

void Runtime::Await(const std::vector<ObjectRef>& refs) {
  std::vector<ObjectRef> done;
  done.reserve(refs.size());
  {
    SubmitBatch batch(*this);
    for (const ObjectRef& ref : refs) {
      if (!ref) throw ValueError("await: a null ObjectRef");
      TaskSpec spec;
      spec.kernel = "engine.noop";
      spec.node = Location(ref);
      spec.args.emplace_back(ref);
      spec.name = "wait";
      done.push_back(Submit(std::move(spec))[0]);
    }
    batch.Send();
  }
  Get(done);
}

std::vector<NodeLoad> Runtime::Loads() {
  std::vector<NodeLoad> out;
  for (const NodeInfo& n : Nodes()) out.push_back({n.memory_used, n.spilled_bytes, n.live});
  return out;
}

}  // namespace nums::engine
