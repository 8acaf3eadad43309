#pragma once
// A RocksDB info logger that drops every line: for read-only opens of a folder that must not be
// written to, not even RocksDB's info LOG (which an open would otherwise create or rotate there).
#include <cstdarg>

#include <rocksdb/env.h>

namespace tl {

class SilentLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*arguments*/) override {}
};

}  // namespace tl
