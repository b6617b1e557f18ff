#include "larix/status.h"

namespace larix {

const char* StatusCodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kNotFound: return "Not found";
    case Status::Code::kCorruption: return "Corruption";
    case Status::Code::kIOError: return "IO error";
    case Status::Code::kInvalidArgument: return "Invalid argument";
    case Status::Code::kNotSupported: return "Not supported";
    case Status::Code::kConflict: return "Conflict";
    case Status::Code::kBusy: return "Busy";
    case Status::Code::kAlreadyExists: return "Already exists";
    case Status::Code::kFull: return "Disk full";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = StatusCodeName(code_);
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string m(context);
  m += ": ";
  m += message_;
  return Status(code_, m);
}

}  // namespace larix
