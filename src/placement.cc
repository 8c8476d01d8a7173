#include "src/placement.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <numeric>
#include <span>

#include "optimizer/search.h"
#include "src/devices.h"

namespace nums::detail {

using optimizer::OpId;

namespace {

// The order to submit `plan`'s steps in (indices; empty: the plan's own). A cluster sends a
// node's held tasks as soon as a task of another node reads one of their outputs (a node must
// know a task before a peer asks it for the output), so the steps go in waves: a step's wave is
// the latest of its inputs', one later for an input that a step made on another node. A node
// then gets about one message per wave it has steps in, where the plan's order could send one
// per change of node along a chain (TSQR's tree up and down, Cholesky's columns).
std::vector<size_t> SubmitOrder(const optimizer::BlockGraph& graph, const optimizer::Plan& plan) {
  const auto made_by_step = [&](optimizer::ValueId v) {
    return v >= graph.size() || graph.op(v).kind != optimizer::OpKind::kLeaf;
  };
  const bool chained = std::any_of(plan.steps.begin(), plan.steps.end(), [&](const auto& step) {
    return std::any_of(step.inputs.begin(), step.inputs.end(), made_by_step);
  });
  if (!chained) return {};
  optimizer::ValueId values = graph.size();
  for (const auto& step : plan.steps) values = std::max(values, step.output + 1);
  std::vector<int64_t> node(static_cast<size_t>(values), -1);  // -1: a leaf, sent already
  std::vector<int64_t> wave(static_cast<size_t>(values), 0);
  std::vector<int64_t> step_wave;
  step_wave.reserve(plan.steps.size());
  for (const auto& step : plan.steps) {
    int64_t w = 0;
    for (optimizer::ValueId in : step.inputs) {
      const auto i = static_cast<size_t>(in);
      if (node[i] >= 0) w = std::max(w, wave[i] + (node[i] != step.node ? 1 : 0));
    }
    node[static_cast<size_t>(step.output)] = step.node;
    wave[static_cast<size_t>(step.output)] = w;
    step_wave.push_back(w);
  }
  std::vector<size_t> order(plan.steps.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return step_wave[a] < step_wave[b]; });
  return order;
}

}  // namespace

StepFn BinaryStep(Context::Impl& ctx, kernels::BinaryOp op, std::optional<engine::OutputSpec> out) {
  return [&ctx, code = int_scalar(static_cast<int64_t>(op)), out = std::move(out)](
             const std::vector<const Refs*>& in, int64_t node) {
    return Refs{submit(ctx, "array.binary", {in[0]->at(0), in[1]->at(0), code}, node, out)};
  };
}

OpId BlockPlan::Leaf(Refs refs, int64_t bytes) {
  auto [it, fresh] = leaf_of_.try_emplace(refs.at(0).id(), 0);
  if (!fresh) return it->second;
  const auto device = block_device(refs[0]) == engine::Device::kCuda ? optimizer::Device::kGpu
                                                                     : optimizer::Device::kCpu;
  it->second = graph_.AddLeaf(ctx_.runtime->Location(refs[0]), bytes, "block", device);
  fns_.emplace_back();
  values_.push_back(std::move(refs));
  return it->second;
}

OpId BlockPlan::Added(OpId id, StepFn fn, const char* kernel) {
  fns_.push_back(Step{std::move(fn), kernel});
  values_.emplace_back();
  return id;
}

OpId BlockPlan::Unary(OpId in, int64_t bytes, StepFn fn, const char* name, const char* kernel) {
  return Added(graph_.AddUnary(in, bytes, name), std::move(fn), kernel);
}

OpId BlockPlan::Binary(OpId a, OpId b, int64_t bytes, StepFn fn, const char* name,
                       const char* kernel) {
  return Added(graph_.AddBinary(a, b, bytes, name), std::move(fn), kernel);
}

OpId BlockPlan::Product(OpId a, OpId b, int64_t bytes, StepFn fn, const char* name,
                        const char* kernel, int64_t itemsize) {
  return Added(graph_.AddProduct(a, b, bytes, name, itemsize), std::move(fn), kernel);
}

OpId BlockPlan::Reduce(std::vector<OpId> inputs, int64_t bytes, StepFn combine, const char* name,
                       const char* kernel) {
  if (inputs.size() == 1) return inputs[0];
  return Added(graph_.AddReduce(std::move(inputs), bytes, name), std::move(combine), kernel);
}

OpId BlockPlan::Gather(std::vector<OpId> inputs, int64_t bytes, StepFn fn, const char* name,
                       const char* kernel) {
  return Added(graph_.AddGather(std::move(inputs), bytes, name), std::move(fn), kernel);
}

OpId BlockPlan::OnNode(int64_t node, std::vector<OpId> inputs, int64_t bytes, StepFn fn,
                       const char* name) {
  OpId id;
  switch (inputs.size()) {
    case 0:
      return Added(graph_.AddSource(node, bytes, name), std::move(fn), nullptr);
    case 1:
      id = graph_.AddUnary(inputs[0], bytes, name);
      break;
    case 2:
      id = graph_.AddBinary(inputs[0], inputs[1], bytes, name);
      break;
    default:
      id = graph_.AddGather(std::move(inputs), bytes, name);
  }
  graph_.Pin(id, node);
  return Added(id, std::move(fn), nullptr);
}

void BlockPlan::DescribeWork() {
  const auto& registry = *DefaultKernels();
  for (OpId id = 0; id < graph_.size(); ++id) {
    const optimizer::Op& op = graph_.op(id);
    if (op.kind == optimizer::OpKind::kLeaf) continue;
    const char* kernel = fns_[static_cast<size_t>(id)].kernel;
    const bool gpu = kernel && registry.Find(kernel, engine::Device::kCuda) != nullptr;
    graph_.SetWork(id, op.flops, gpu);
  }
}

void BlockPlan::Run() {
  const auto& ops = graph_.ops();
  const bool reduces = std::any_of(ops.begin(), ops.end(), [](const optimizer::Op& op) {
    return op.kind == optimizer::OpKind::kReduce;
  });
  // Device mode "auto" on a cluster with GPUs: the plan also picks each step's device.
  const bool devices = !ctx_.rates.empty();
  if (devices) DescribeWork();
  if (one_placement(ctx_) && !reduces) {
    // One node and no reduction tree to shape: every op runs there in the graph's order (its
    // inputs come first), so there is nothing for the search to choose.
    engine::SubmitBatch batch(*ctx_.runtime);
    std::vector<const Refs*> inputs;
    for (OpId id = 0; id < graph_.size(); ++id) {
      const optimizer::Op& op = ops[static_cast<size_t>(id)];
      if (op.kind == optimizer::OpKind::kLeaf) continue;
      inputs.clear();
      for (OpId in : op.inputs) inputs.push_back(&values_[static_cast<size_t>(in)]);
      values_[static_cast<size_t>(id)] = fns_[static_cast<size_t>(id)].fn(inputs, 0);
    }
    batch.Send();
    return;
  }
  // Each node's memory in use seeds the plan: the runtime's view of the loads, which a cluster
  // keeps from what the nodes report in their replies (no call is made for it here).
  std::vector<int64_t> memory(static_cast<size_t>(std::max<int64_t>(graph_.min_nodes(), 1)), 0);
  std::vector<int64_t> spilled;
  std::unique_ptr<bool[]> live;  // a lost node is never a candidate
  if (!optimizer::LoadsCannotMatter(graph_, ctx_.policy)) {
    const auto loads = ctx_.runtime->Loads();
    memory.clear();
    live = std::make_unique<bool[]>(loads.size());
    for (size_t i = 0; i < loads.size(); ++i) {
      memory.push_back(loads[i].memory_used);
      spilled.push_back(loads[i].spilled_bytes);
      live[i] = loads[i].live;
    }
  }
  std::vector<optimizer::NodeRates> rates;  // one per node of the plan; unknown: CPU only
  if (devices) {
    if (memory.size() < ctx_.rates.size()) memory.resize(ctx_.rates.size(), 0);
    rates.assign(ctx_.rates.begin(), ctx_.rates.begin() + static_cast<ptrdiff_t>(std::min(
                                                              ctx_.rates.size(), memory.size())));
    rates.resize(memory.size());
  }
  const optimizer::Plan plan = optimizer::PlaceOnCluster(
      graph_, memory, ctx_.policy, std::span<const bool>(live.get(), live ? memory.size() : 0),
      spilled, rates);
  const std::vector<size_t> order = SubmitOrder(graph_, plan);
  engine::SubmitBatch batch(*ctx_.runtime);  // a cluster sends each node's tasks together
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const optimizer::PlanStep& step = plan.steps[order.empty() ? s : order[s]];
    std::vector<const Refs*> inputs;
    for (int i = 0; i < step.num_inputs(); ++i) {
      inputs.push_back(&values_.at(static_cast<size_t>(step.inputs[static_cast<size_t>(i)])));
    }
    std::optional<StepDevice> device;
    if (devices && ops[static_cast<size_t>(step.op)].node < 0) {  // not pinned
      device.emplace(step.device == optimizer::Device::kGpu ? engine::Device::kCuda
                                                            : engine::Device::kCpu);
    }
    Refs out = fns_[static_cast<size_t>(step.op)].fn(inputs, step.node);
    // Partial results of a reduction get ids past the graph's ops.
    if (step.output >= static_cast<optimizer::ValueId>(values_.size())) {
      values_.resize(static_cast<size_t>(step.output) + 1);
    }
    values_[static_cast<size_t>(step.output)] = std::move(out);
  }
  batch.Send();
}

void GatherPlan::Add(const char* kernel, std::vector<TaskArg> args,
                     const std::vector<int64_t>& input_bytes, std::optional<engine::OutputSpec> out,
                     int64_t bytes) {
  if (input_bytes.empty()) throw ValueError(std::string(kernel) + ": a gather needs an input");
  std::vector<OpId> inputs;
  for (size_t i = 0; i < input_bytes.size(); ++i) {
    inputs.push_back(plan_.Leaf({std::get<ObjectRef>(args.at(i))}, input_bytes[i]));
  }
  any_task_ = true;
  const size_t n = inputs.size();
  StepFn fn =
      [this, kernel, n, out = std::move(out),
       rest = std::vector<TaskArg>(std::make_move_iterator(args.begin() + static_cast<int64_t>(n)),
                                   std::make_move_iterator(args.end()))](
          const std::vector<const Refs*>& in, int64_t node) mutable {  // runs once
        std::vector<TaskArg> call;
        for (size_t i = 0; i < n; ++i) call.emplace_back(in[i]->at(0));
        call.insert(call.end(), std::make_move_iterator(rest.begin()),
                    std::make_move_iterator(rest.end()));
        return Refs{submit(ctx_, kernel, std::move(call), node, out)};
      };
  const OpId op = plan_.Gather(std::move(inputs), bytes, std::move(fn), kernel, kernel);
  plan_.Output(op);
  blocks_.emplace_back(op);
}

void GatherPlan::Reuse(ObjectRef block) { blocks_.emplace_back(std::move(block)); }

std::vector<ObjectRef> GatherPlan::Run() && {
  if (any_task_) plan_.Run();
  std::vector<ObjectRef> out;
  out.reserve(blocks_.size());
  for (auto& b : blocks_) {
    if (auto* op = std::get_if<OpId>(&b)) {
      out.push_back(plan_.result(*op).at(0));
    } else {
      out.push_back(std::move(std::get<ObjectRef>(b)));
    }
  }
  return out;
}

}  // namespace nums::detail
