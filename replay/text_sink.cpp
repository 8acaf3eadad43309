#include "replay/text_sink.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace tl::replay {

void FileSink::write(std::string_view text) {
  if (!status_.is_ok() || text.empty()) return;
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    if (errno == EPIPE && on_closed_pipe_ != nullptr) on_closed_pipe_();
    status_ = Status::io_error(fmt::format("writing the output failed: {}", std::strerror(errno)));
  }
}

void BufferedWriter::flush() {
  if (buffer_.empty()) return;
  sink_.write(buffer_);
  buffer_.clear();
}

}  // namespace tl::replay
