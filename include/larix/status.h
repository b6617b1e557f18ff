// Status and Result: how every layer below the CLI and the Python module
// reports success or failure.
//
// A Status is either OK or carries one of a small set of codes plus a
// human-readable message that names the thing that went wrong ("object
// 3fa9…: hash mismatch", "ref refs/heads/dev: expected 1a2b…, found 9c8d…").
// Errors are values, passed along in straight lines:
//
//   Status s = odb.Write(...);
//   if (s.ok()) s = refs.CompareAndSwap(...);
//   return s;
//
// Result<T> is a Status or a T.  Both are [[nodiscard]]: dropping one on the
// floor is a compile warning.
//
// Thread-safety: values; safe to copy between threads.

#ifndef LARIX_STATUS_H_
#define LARIX_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace larix {

class [[nodiscard]] Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound,         // the object, ref or key does not exist
    kCorruption,       // stored data failed verification
    kIOError,          // the operating system reported an error
    kInvalidArgument,  // the caller asked for something malformed
    kNotSupported,     // a valid request this build or format cannot serve
    kConflict,         // a compare-and-swap saw a value other than expected
    kBusy,             // a lock is held elsewhere; retrying may succeed
    kAlreadyExists,    // create-only operation found the name taken
    kFull,             // the disk (or a quota) is full
  };

  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return {Code::kNotFound, msg}; }
  static Status Corruption(std::string_view msg) {
    return {Code::kCorruption, msg};
  }
  static Status IOError(std::string_view msg) { return {Code::kIOError, msg}; }
  static Status InvalidArgument(std::string_view msg) {
    return {Code::kInvalidArgument, msg};
  }
  static Status NotSupported(std::string_view msg) {
    return {Code::kNotSupported, msg};
  }
  static Status Conflict(std::string_view msg) { return {Code::kConflict, msg}; }
  static Status Busy(std::string_view msg) { return {Code::kBusy, msg}; }
  static Status AlreadyExists(std::string_view msg) {
    return {Code::kAlreadyExists, msg};
  }
  static Status Full(std::string_view msg) { return {Code::kFull, msg}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }
  bool IsFull() const { return code_ == Code::kFull; }

  // The message alone, as given to the factory.
  const std::string& message() const { return message_; }

  // "Corruption: object 3fa9…: hash mismatch"; "OK" when ok().
  std::string ToString() const;

  // A copy with "context: " put in front of the message, same code.
  Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string_view msg) : code_(code), message_(msg) {}

  Code code_ = Code::kOk;
  std::string message_;
};

const char* StatusCodeName(Status::Code code);

// A T or the Status that explains why there is none.  Result<T> built from
// an OK Status is a programming error (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok());
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace larix

// Evaluate a Status expression; return it from the enclosing function when it
// is not OK.
#define LARIX_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::larix::Status larix_status_ = (expr);  \
    if (!larix_status_.ok()) return larix_status_; \
  } while (0)

#define LARIX_CONCAT_INNER_(a, b) a##b
#define LARIX_CONCAT_(a, b) LARIX_CONCAT_INNER_(a, b)

// LARIX_ASSIGN_OR_RETURN(auto x, Foo()); binds x to Foo()'s value or returns
// its Status.
#define LARIX_ASSIGN_OR_RETURN(lhs, expr) \
  LARIX_ASSIGN_OR_RETURN_IMPL_(LARIX_CONCAT_(larix_result_, __LINE__), lhs, expr)
#define LARIX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#endif  // LARIX_STATUS_H_
