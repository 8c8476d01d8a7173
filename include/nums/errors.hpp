#pragma once
/// The exceptions nums throws: one hierarchy rooted at nums::Error.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nums {

/// What kind of error; travels with a failed task so that get() rethrows the same type.
enum class ErrorCode : uint8_t {
  kError,
  kShape,
  kDType,
  kIndex,
  kValue,
  kIO,
  kCluster,
  kNodeLost,
  kAuth,
  kRemoteTask,
  kTimeout,
  kOutOfMemory,
};

/// Base of every nums exception.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, ErrorCode code = ErrorCode::kError)
      : std::runtime_error(what), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

#define NUMS_DEFINE_ERROR(Name, Code)                                        \
  class Name : public Error {                                                \
   public:                                                                   \
    explicit Name(const std::string& what) : Error(what, ErrorCode::Code) {} \
  };

/// Shapes that do not fit together; the message prints both.
NUMS_DEFINE_ERROR(ShapeError, kShape)
/// A dtype an operation does not accept.
NUMS_DEFINE_ERROR(DTypeError, kDType)
/// An index or axis out of range.
NUMS_DEFINE_ERROR(IndexError, kIndex)
/// An argument with a bad value (negative count, unknown option, ...).
NUMS_DEFINE_ERROR(ValueError, kValue)
/// A file, object or stream that could not be read or written.
NUMS_DEFINE_ERROR(IOError, kIO)
/// A cluster-level failure (unknown node, unknown kernel, daemon unreachable).
NUMS_DEFINE_ERROR(ClusterError, kCluster)
/// A node died holding data that cannot be recomputed.
NUMS_DEFINE_ERROR(NodeLostError, kNodeLost)
/// A connection refused for a wrong or missing cluster token.
NUMS_DEFINE_ERROR(AuthError, kAuth)
/// A task failed with an error that is not one of ours (a std::exception from a kernel).
NUMS_DEFINE_ERROR(RemoteTaskError, kRemoteTask)
/// A wait or get ran past its deadline.
NUMS_DEFINE_ERROR(TimeoutError, kTimeout)
/// A node cannot hold what a task or a put needs, even after spilling what it can; the message
/// names the node, the bytes needed and the bytes available.
NUMS_DEFINE_ERROR(OutOfMemoryError, kOutOfMemory)

#undef NUMS_DEFINE_ERROR

/// Throws the nums::Error subclass that `code` names, with message `what`.
[[noreturn]] void throw_error(ErrorCode code, const std::string& what);

}  // namespace nums
