#include "engine/cluster/wire.h"

namespace nums::engine::cluster {
namespace {

wire::ScalarW ScalarToWire(const Scalar& s) {
  wire::ScalarW w;
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          w.__set_b(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          w.__set_i(v);
        } else if constexpr (std::is_same_v<T, double>) {
          w.__set_d(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.__set_s(v);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          w.__set_iv(v);
        } else {
          w.__set_dv(v);
        }
      },
      s);
  return w;
}

Scalar ScalarFromWire(const wire::ScalarW& w) {
  if (w.__isset.b) return w.b;
  if (w.__isset.i) return w.i;
  if (w.__isset.d) return w.d;
  if (w.__isset.s) return w.s;
  if (w.__isset.iv) return w.iv;
  if (w.__isset.dv) return w.dv;
  throw ValueError("task scalar argument with no value");
}

}  // namespace

wire::ObjectIdW ToWire(const ObjectId& id) {
  wire::ObjectIdW w;
  w.hi = static_cast<int64_t>(id.hi);
  w.lo = static_cast<int64_t>(id.lo);
  return w;
}

ObjectId FromWire(const wire::ObjectIdW& id) {
  return {static_cast<uint64_t>(id.hi), static_cast<uint64_t>(id.lo)};
}

wire::TaskW ToWire(const TaskRecord& task) {
  wire::TaskW w;
  w.kernel = task.kernel;
  w.name = task.name;
  w.device = static_cast<int8_t>(task.device);
  w.node = task.node;
  w.arguments.reserve(task.args.size());
  for (const auto& arg : task.args) {
    wire::ArgW a;
    if (const auto* obj = std::get_if<ObjectArg>(&arg)) {
      wire::ObjectArgW o;
      o.id = ToWire(obj->id);
      o.node = obj->node;
      a.__set_object(o);
    } else {
      a.__set_scalar(ScalarToWire(std::get<Scalar>(arg)));
    }
    w.arguments.push_back(std::move(a));
  }
  for (const ObjectId& id : task.returns) w.returns.push_back(ToWire(id));
  for (const OutputSpec& out : task.outputs) {
    wire::OutputSpecW o;
    o.dtype = static_cast<int8_t>(out.dtype);
    o.shape = out.shape;
    o.upper_bound = out.upper_bound;
    w.outputs.push_back(std::move(o));
  }
  w.scratch_bytes = task.scratch_bytes;
  w.io = task.io;
  w.recomputable = task.recomputable;
  return w;
}

std::shared_ptr<const TaskRecord> FromWire(const wire::TaskW& w) {
  auto t = std::make_shared<TaskRecord>();
  t->kernel = w.kernel;
  t->name = w.name.empty() ? w.kernel : w.name;
  if (w.device != static_cast<int8_t>(Device::kCpu) &&
      w.device != static_cast<int8_t>(Device::kCuda)) {
    throw ValueError("task '" + t->name + "': unknown device " + std::to_string(w.device));
  }
  t->device = static_cast<Device>(w.device);
  t->node = w.node;
  for (const auto& a : w.arguments) {
    if (a.__isset.object) {
      t->args.emplace_back(ObjectArg{FromWire(a.object.id), a.object.node, nullptr});
    } else if (a.__isset.scalar) {
      t->args.emplace_back(ScalarFromWire(a.scalar));
    } else {
      throw ValueError("task '" + t->name + "': argument with no value");
    }
  }
  for (const auto& id : w.returns) t->returns.push_back(FromWire(id));
  if (!w.outputs.empty() && w.outputs.size() != w.returns.size()) {
    throw ValueError("task '" + t->name + "': " + std::to_string(w.outputs.size()) +
                     " output specs for " + std::to_string(w.returns.size()) + " returns");
  }
  for (const auto& o : w.outputs) {
    if (o.dtype < 0 || o.dtype > static_cast<int8_t>(kLastDType)) {
      throw ValueError("task '" + t->name + "': output of unknown dtype code " +
                       std::to_string(o.dtype));
    }
    OutputSpec out{static_cast<DType>(o.dtype), o.shape, o.upper_bound};
    out.nbytes();  // a shape from the wire must not overflow
    t->outputs.push_back(std::move(out));
  }
  if (w.scratch_bytes < 0) throw ValueError("task '" + t->name + "': negative scratch_bytes");
  t->scratch_bytes = w.scratch_bytes;
  t->io = w.io;
  t->recomputable = w.recomputable;
  CheckRecomputable(*t);
  return t;
}

wire::ErrorW ToWire(const ErrorInfo& error) {
  wire::ErrorW w;
  w.code = static_cast<int8_t>(error.code);
  w.message = error.message;
  w.task = error.task;
  w.node = error.node;
  return w;
}

std::shared_ptr<const ErrorInfo> FromWire(const wire::ErrorW& w) {
  auto e = std::make_shared<ErrorInfo>();
  e->code = w.code >= 0 && w.code <= static_cast<int8_t>(ErrorCode::kOutOfMemory)
                ? static_cast<ErrorCode>(w.code)
                : ErrorCode::kError;
  e->message = w.message;
  e->task = w.task;
  e->node = w.node;
  return e;
}

NodeLoad FromWire(const wire::LoadW& w) {
  return {.memory_used = w.memory_used, .spilled_bytes = w.spilled_bytes};
}

wire::BlockMetaW MetaOf(const Block& block) {
  wire::BlockMetaW m;
  m.dtype = static_cast<int8_t>(block.dtype());
  m.shape = block.shape();
  m.nbytes = block.nbytes();
  return m;
}

Block AllocateFor(const wire::BlockMetaW& meta, std::shared_ptr<MemoryPool> pool) {
  if (meta.dtype < 0 || meta.dtype > static_cast<int8_t>(kLastDType)) {
    throw ValueError("block with unknown dtype code " + std::to_string(meta.dtype));
  }
  const DType dtype = static_cast<DType>(meta.dtype);
  int64_t n = 1;
  for (int64_t d : meta.shape) {
    if (d < 0 || (d > 0 && n > (int64_t{1} << 50) / d)) {
      throw ValueError("block with bad shape " + ShapeToString(meta.shape));
    }
    n *= d;
  }
  if (n * itemsize(dtype) != meta.nbytes) {
    throw ValueError("block of shape " + ShapeToString(meta.shape) + " cannot hold " +
                     std::to_string(meta.nbytes) + " bytes");
  }
  return Block::Allocate(dtype, meta.shape, std::move(pool));
}

}  // namespace nums::engine::cluster
