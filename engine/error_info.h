#pragma once
// A task failure as a value: it travels with the failed objects and is rethrown by Get.

#include <exception>
#include <memory>
#include <string>

#include "engine/object_ref.h"
#include "nums/errors.hpp"

namespace nums::engine {

struct ErrorInfo {
  ErrorCode code = ErrorCode::kError;
  std::string message;  ///< the original exception's what()
  std::string task;     ///< name of the task that threw
  NodeId node = -1;     ///< where it ran

  /// "task 'name' on node N failed: message".
  std::string ToString() const;
  /// Rethrows as the nums::Error subclass `code` names.
  [[noreturn]] void Throw() const;
  /// Captures the exception in flight (call inside a catch block).
  static std::shared_ptr<const ErrorInfo> FromCurrentException(std::string task, NodeId node);

  /// The `task` of the error a node gives for an object it does not hold (freed or never made)...
  static constexpr const char* kMissingObject = "object lookup";
  /// ...and of the error of a task one of whose inputs was such an object (and of the tasks that
  /// read its outputs): a driver that kept the lineage can make the input again and rerun it.
  static constexpr const char* kMissingInput = "input lookup";
  bool IsMissingObject() const { return code == ErrorCode::kCluster && task == kMissingObject; }
  bool IsMissingInput() const { return code == ErrorCode::kCluster && task == kMissingInput; }
};

}  // namespace nums::engine
