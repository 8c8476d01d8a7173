#pragma once
// Conversions between engine values and their Thrift wire forms (engine/idl/nums.thrift).

#include <memory>

#include "engine/block.h"
#include "engine/cluster/gen/nums_types.h"
#include "engine/error_info.h"
#include "engine/runtime.h"
#include "engine/task.h"

namespace nums::engine::cluster {

wire::ObjectIdW ToWire(const ObjectId& id);
ObjectId FromWire(const wire::ObjectIdW& id);

/// The task with its output ids; block arguments keep only id and holder (lineage stays with
/// the driver).
wire::TaskW ToWire(const TaskRecord& task);
/// Throws ValueError for an argument with no field set or an unknown device.
std::shared_ptr<const TaskRecord> FromWire(const wire::TaskW& task);

wire::ErrorW ToWire(const ErrorInfo& error);
std::shared_ptr<const ErrorInfo> FromWire(const wire::ErrorW& error);

/// A node's load as it reports it (`live` left true).
NodeLoad FromWire(const wire::LoadW& load);

wire::BlockMetaW MetaOf(const Block& block);
/// A block with fresh storage from `pool` for `meta`; throws ValueError when dtype, shape and
/// size disagree.
Block AllocateFor(const wire::BlockMetaW& meta, std::shared_ptr<MemoryPool> pool);

}  // namespace nums::engine::cluster
