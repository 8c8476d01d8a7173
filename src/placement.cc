#include "src/placement.h"

#include "optimizer/search.h"

namespace nums::detail {

using optimizer::OpId;

OpId BlockPlan::Leaf(Refs refs, int64_t bytes) {
  const int64_t node = refs.at(0).node();
  const OpId id = graph_.AddLeaf(node, bytes);
  fns_.emplace_back();
  values_.push_back(std::move(refs));
  return id;
}

OpId BlockPlan::Unary(OpId in, int64_t bytes, StepFn fn, const char* name) {
  const OpId id = graph_.AddUnary(in, bytes, name);
  fns_.push_back(std::move(fn));
  values_.emplace_back();
  return id;
}

OpId BlockPlan::Binary(OpId a, OpId b, int64_t bytes, StepFn fn, const char* name) {
  const OpId id = graph_.AddBinary(a, b, bytes, name);
  fns_.push_back(std::move(fn));
  values_.emplace_back();
  return id;
}

OpId BlockPlan::Product(OpId a, OpId b, int64_t bytes, StepFn fn, const char* name) {
  const OpId id = graph_.AddProduct(a, b, bytes, name);
  fns_.push_back(std::move(fn));
  values_.emplace_back();
  return id;
}

OpId BlockPlan::Reduce(std::vector<OpId> inputs, int64_t bytes, StepFn combine, const char* name) {
  if (inputs.size() == 1) return inputs[0];
  const OpId id = graph_.AddReduce(std::move(inputs), bytes, name);
  fns_.push_back(std::move(combine));
  values_.emplace_back();
  return id;
}

OpId BlockPlan::Gather(std::vector<OpId> inputs, int64_t bytes, StepFn fn, const char* name) {
  const OpId id = graph_.AddGather(std::move(inputs), bytes, name);
  fns_.push_back(std::move(fn));
  values_.emplace_back();
  return id;
}

void BlockPlan::Run() {
  std::vector<int64_t> memory;
  for (const auto& n : ctx_.runtime->Nodes()) memory.push_back(n.memory_used);
  const optimizer::Plan plan = optimizer::PlaceOnCluster(graph_, memory, ctx_.policy);
  for (const auto& step : plan.steps) {
    std::vector<const Refs*> inputs;
    for (int i = 0; i < step.num_inputs(); ++i) {
      inputs.push_back(&values_.at(static_cast<size_t>(step.inputs[static_cast<size_t>(i)])));
    }
    Refs out = fns_[static_cast<size_t>(step.op)](inputs, step.node);
    // Partial results of a reduction get ids past the graph's ops.
    if (step.output >= static_cast<optimizer::ValueId>(values_.size())) {
      values_.resize(static_cast<size_t>(step.output) + 1);
    }
    values_[static_cast<size_t>(step.output)] = std::move(out);
  }
}

}  // namespace nums::detail
