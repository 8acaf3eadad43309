#include "engine/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <string>

namespace tl {

void name_this_thread(std::string_view name) {
  const std::string cut(name.substr(0, std::min(name.size(), thread_name_bytes_max)));
  // A failure (only ERANGE, ruled out by the cut) changes nothing but the name: not worth a Status.
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace tl
