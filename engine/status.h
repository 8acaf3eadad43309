#pragma once
// Errors are values (LevelDB's Status): environment failures and corruption are returned, never
// thrown across a module edge; programmer errors are assertions.
#include <string>
#include <utility>

namespace tl {

class Status {
 public:
  enum class Code { ok, conflict, corruption, io_error, not_found, invalid_argument, busy };

  Status() = default;
  static Status ok() { return {}; }
  static Status conflict(std::string message) { return {Code::conflict, std::move(message)}; }
  static Status corruption(std::string message) { return {Code::corruption, std::move(message)}; }
  static Status io_error(std::string message) { return {Code::io_error, std::move(message)}; }
  static Status not_found(std::string message) { return {Code::not_found, std::move(message)}; }
  static Status invalid_argument(std::string message) { return {Code::invalid_argument, std::move(message)}; }
  static Status busy(std::string message) { return {Code::busy, std::move(message)}; }

  bool is_ok() const { return code_ == Code::ok; }
  bool is_conflict() const { return code_ == Code::conflict; }
  bool is_corruption() const { return code_ == Code::corruption; }
  bool is_io_error() const { return code_ == Code::io_error; }
  bool is_not_found() const { return code_ == Code::not_found; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::ok;
  std::string message_;
};

inline std::string Status::to_string() const {
  switch (code_) {
    case Code::ok: return "ok";
    case Code::conflict: return "conflict: " + message_;
    case Code::corruption: return "corruption: " + message_;
    case Code::io_error: return "io error: " + message_;
    case Code::not_found: return "not found: " + message_;
    case Code::invalid_argument: return "invalid argument: " + message_;
    case Code::busy: return "busy: " + message_;
  }
  return "unknown status";
}

}  // namespace tl
