#include "engine/error_info.h"

namespace nums {

void throw_error(ErrorCode code, const std::string& what) {
  switch (code) {
    case ErrorCode::kShape:
      throw ShapeError(what);
    case ErrorCode::kDType:
      throw DTypeError(what);
    case ErrorCode::kIndex:
      throw IndexError(what);
    case ErrorCode::kValue:
      throw ValueError(what);
    case ErrorCode::kIO:
      throw IOError(what);
    case ErrorCode::kCluster:
      throw ClusterError(what);
    case ErrorCode::kNodeLost:
      throw NodeLostError(what);
    case ErrorCode::kAuth:
      throw AuthError(what);
    case ErrorCode::kRemoteTask:
      throw RemoteTaskError(what);
    case ErrorCode::kTimeout:
      throw TimeoutError(what);
    case ErrorCode::kOutOfMemory:
      throw OutOfMemoryError(what);
    case ErrorCode::kError:
      break;
  }
  throw Error(what);
}

namespace engine {

std::string ErrorInfo::ToString() const {
  return "task '" + task + "' on node " + std::to_string(node) + " failed: " + message;
}

void ErrorInfo::Throw() const { throw_error(code, ToString()); }

std::shared_ptr<const ErrorInfo> ErrorInfo::FromCurrentException(std::string task, NodeId node) {
  auto info = std::make_shared<ErrorInfo>();
  info->task = std::move(task);
  info->node = node;
  try {
    throw;
  } catch (const Error& e) {
    info->code = e.code();
    info->message = e.what();
  } catch (const std::bad_alloc&) {
    info->code = ErrorCode::kOutOfMemory;
    info->message = "out of memory on node " + std::to_string(node) + " (std::bad_alloc)";
  } catch (const std::exception& e) {
    info->code = ErrorCode::kRemoteTask;
    info->message = e.what();
  } catch (...) {
    info->code = ErrorCode::kRemoteTask;
    info->message = "unknown exception";
  }
  return info;
}

}  // namespace engine
}  // namespace nums
