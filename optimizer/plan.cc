#include "optimizer/plan.h"

#include <algorithm>

#include "nums/errors.hpp"

namespace nums::optimizer {

std::string_view PolicyName(Policy policy) {
  switch (policy) {
    case Policy::kLshs:
      return "lshs";
    case Policy::kRoundRobin:
      return "round-robin";
    case Policy::kLocality:
      return "locality";
  }
  return "unknown";
}

Policy ParsePolicy(std::string_view name) {
  for (Policy p : {Policy::kLshs, Policy::kRoundRobin, Policy::kLocality}) {
    if (PolicyName(p) == name) return p;
  }
  throw ValueError("unknown placement policy '" + std::string(name) +
                   "' (lshs, round-robin, locality)");
}

int64_t PlanStep::MovedBytes() const {
  int64_t moved = 0;
  for (int k = 0; k < num_inputs(); ++k) {
    if (sources[static_cast<size_t>(k)] != node) moved += input_bytes[static_cast<size_t>(k)];
  }
  return moved;
}

int64_t Plan::MovedBytes() const {
  int64_t moved = 0;
  for (const PlanStep& s : steps) moved += s.MovedBytes();
  return moved;
}

namespace {

std::string ValueName(ValueId v, const BlockGraph& graph) {
  if (v < graph.size()) return "%" + std::to_string(v);
  return "%p" + std::to_string(v - graph.size());
}

}  // namespace

std::string Explain(const Plan& plan, const BlockGraph& graph) {
  std::string s = "plan (" + std::string(PolicyName(plan.policy)) +
                  "): " + std::to_string(plan.steps.size()) + " steps on " +
                  std::to_string(plan.state.num_nodes()) + " nodes, " +
                  FormatBytes(plan.MovedBytes()) + " moved\n";
  const bool gpus = std::any_of(plan.steps.begin(), plan.steps.end(),
                                [](const PlanStep& st) { return st.device == Device::kGpu; });
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const PlanStep& st = plan.steps[i];
    const Op& op = graph.op(st.op);
    s += "  " + std::to_string(i) + ": " + std::string(OpKindName(op.kind)) + " " +
         ValueName(st.output, graph) + " = " + op.name + "(";
    for (int k = 0; k < st.num_inputs(); ++k) {
      const auto kk = static_cast<size_t>(k);
      if (k) s += ", ";
      s += ValueName(st.inputs[kk], graph);
      if (st.sources[kk] != st.node) {
        s += " <- node " + std::to_string(st.sources[kk]) + " (" + FormatBytes(st.input_bytes[kk]) +
             ")";
      }
    }
    s += ") on node " + std::to_string(st.node);
    if (gpus) s += " " + std::string(DeviceName(st.device));
    s += ", " + FormatBytes(st.bytes);
    if (op.kind == OpKind::kReduce) {
      s += st.output == st.op ? ", last step of reduction %" + std::to_string(st.op)
                              : ", step of reduction %" + std::to_string(st.op);
    }
    if (st.output == st.op && op.is_output) s += ", output";
    s += "\n";
  }
  s += plan.state.ToString();
  return s;
}

}  // namespace nums::optimizer
