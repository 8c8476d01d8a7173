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

}  // namespace nums::engine
