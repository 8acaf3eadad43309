#pragma once
// What the HTTP application needs to know besides the engine: secrets and modes.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "api/rtc_field.h"

namespace tl::api {

struct AppConfig {
  std::string jwt_secret;         // TL_JWT_SECRET
  std::string webhook_secret;     // TL_WEBHOOK_SECRET; empty: every webhook is bad_signature
  std::optional<agora::AgoraCredentials> agora;  // TL_AGORA_APP_ID + TL_AGORA_APP_CERTIFICATE
  uint32_t rtc_expire_s = 4 * 3600;  // Agora token lifetime handed to a session participant
  bool test_clock = false;        // serve --test-clock: POST /api/test/clock exists
  std::string openapi_yaml;       // served at /openapi.yaml
  // A read replica serves the read routes; every write answers 405 naming the primary.
  bool read_only_replica = false;
  std::string primary_url;        // e.g. "http://10.0.0.5:8080", shown to writers on a replica
  // Appends more members to the GET /healthz object (e.g. `"nats":{...}` of the NATS publisher).
  // `position` is the one the object shows: members that count against it use it, so that the
  // answer is one snapshot (published + lag == position). Called on I/O threads: thread-safe and
  // quick. Empty: nothing more.
  std::function<void(std::string& json, uint64_t position)> health_members;
};

}  // namespace tl::api
