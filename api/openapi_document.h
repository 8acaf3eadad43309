#pragma once
// api/openapi.yaml, compiled into the binary (CMake generates the definition from the file).
#include <string_view>

namespace tl::api {

std::string_view openapi_document();

}  // namespace tl::api
