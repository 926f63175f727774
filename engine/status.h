// Status: the outcome of an operation that can fail, as a value.
//
// Modelled on LevelDB's Status: an OK status carries nothing; an error has a
// code and a message meant for a person. Errors from lower layers (errno,
// LMDB, simdjson) are converted into a Status once, at the boundary where
// they are first seen, and travel upward as values.
//
// Thread-safety: a Status is a plain value; distinct objects may be used from
// distinct threads without synchronisation.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace idrecon {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // the caller's input is wrong; retrying it will not help
    kNotFound,
    kCorruption,       // stored data failed a check
    kIOError,
    kUnavailable,      // the service refuses work for now (e.g. a sticky error)
    kGuarded,          // every value the request gave is guarded (docs/api.md §8)
    kClusterCap,       // the request would merge clusters past the cluster cap (docs/api.md §8)
  };

  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status Guarded(std::string msg) { return Status(Code::kGuarded, std::move(msg)); }
  static Status ClusterCap(std::string msg) { return Status(Code::kClusterCap, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }
  bool IsGuarded() const { return code_ == Code::kGuarded; }
  bool IsClusterCap() const { return code_ == Code::kClusterCap; }

  // The message alone, for a person ("email is longer than 320 bytes").
  const std::string& message() const { return message_; }
  // Code and message, for logs ("InvalidArgument: email is longer ...").
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Status::Code code);

}  // namespace idrecon
