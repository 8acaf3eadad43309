// Health, metrics, the OpenAPI document, and the test clock.
#include <fmt/format.h>

#include "api/app.h"
#include "api/json_body.h"
#include "api/route_support.h"
#include "projections/json_text.h"
#include "projections/time.h"

namespace tl::api {

void App::add_system_routes(Router& router) {
  add_route(router, "GET", "/healthz", [this](HttpRequest&&, RouteParams, Respond respond) {
    const uint64_t position = engine_.stats().last_position.load(std::memory_order_relaxed);
    // Reads go on while writes fail, so the answer stays 200; the body says what is wrong.
    const bool writes_failing = engine_.stats().writes_failing.load(std::memory_order_relaxed);
    std::string body = fmt::format(R"({{"status":"{}","writes":"{}","position":{})", writes_failing ? "degraded" : "ok",
                                   writes_failing ? "failing" : "ok", position);
    if (config_.health_members) {
      body += ',';
      config_.health_members(body, position);
    }
    body += '}';
    respond(json_response(200, std::move(body)));
  });

  add_route(router, "GET", "/metrics", [this](HttpRequest&&, RouteParams, Respond respond) {
    respond(metrics_response(*metrics_));
  });

  add_route(router, "GET", "/openapi.yaml", [this](HttpRequest&&, RouteParams, Respond respond) {
    HttpResponse response = json_response(200, config_.openapi_yaml);
    response.content_type = "application/yaml";
    respond(std::move(response));
  });

  if (!config_.test_clock) return;  // without --test-clock the route does not exist (404)
  add_route(router, "POST", "/api/test/clock", guarded(config_, admins, [this](const Actor& caller, HttpRequest&& request,
                                                                         RouteParams, Respond respond) {
    std::optional<int64_t> advance_seconds;
    std::optional<std::string> set;
    const Status parsed = read_json_body(request.body, {json_field("advance_seconds", advance_seconds, 0, INT32_MAX),
                                                        json_field("set", set, 64)});
    if (!parsed.is_ok()) return respond(error_http(400, "invalid_request", parsed.message(), actor_text(caller)));
    if (advance_seconds.has_value() == set.has_value()) {
      return respond(error_http(400, "invalid_request", "give exactly one of advance_seconds and set", actor_text(caller)));
    }
    Engine::ClockMove move;
    if (set) {
      const auto at = parse_rfc3339_to_second(*set);  // the test clock keeps to whole seconds
      if (!at) return respond(error_http(400, "invalid_request", "set: must be an RFC 3339 time", actor_text(caller)));
      move = Engine::ClockMove::to(*at);
    } else {
      move = Engine::ClockMove::by(*advance_seconds * ms_per_second);  // from the clock the writer finds
    }
    const std::string user = actor_text(caller);
    HttpResponse refused;
    std::optional<IdempotencyTag> idempotency = read_idempotency(request, user, &refused);
    if (!idempotency && request.idempotency_key) return respond(std::move(refused));
    auto render = [](Status status, TimeMs now) {
      if (!status.is_ok()) return error_reply(400, "invalid_request", status.message());
      std::string body = "{\"now\":";
      append_rfc3339_seconds_json(body, now);
      body += '}';
      return Reply{200, std::move(body), false};
    };
    const auto queued = engine_.advance_clock(move, caller, std::move(idempotency), render,
                                              [respond, user](Reply reply) { respond(reply_response(std::move(reply), user)); });
    switch (queued) {
      case SubmitResult::queued: return;
      case SubmitResult::busy: return respond(error_http(503, "busy", "the ledger is busy; retry shortly", user));
      case SubmitResult::stopped: return respond(error_http(503, "unavailable", "the server is stopping", user));
      case SubmitResult::read_only: return respond(error_http(405, "read_only_replica", "this server's clock is not a test clock", user));
    }
  }));
}

void App::register_engine_metrics() {
  const EngineStats& stats = engine_.stats();
  auto read = [](const auto& value) {  // an atomic counter or gauge of the stats, as the registry's int64
    return [&value] { return static_cast<int64_t>(value.load(std::memory_order_relaxed)); };
  };
  metrics_->counter_callback("tl_engine_commands_total", "Commands decided by the writer", read(stats.commands_total));
  metrics_->counter_callback("tl_engine_commands_rejected_total", "Commands decide refused", read(stats.commands_rejected_total));
  metrics_->counter_callback("tl_engine_events_appended_total", "Events appended to the log", read(stats.events_total));
  metrics_->counter_callback("tl_engine_batches_total", "Synced WriteBatches (group commits)", read(stats.batches_total));
  metrics_->counter_callback("tl_engine_idempotent_replays_total", "Answers replayed for a repeated Idempotency-Key",
                             read(stats.idempotent_replays_total));
  metrics_->counter_callback("tl_engine_timers_fired_total", "Timer commands fired", read(stats.timers_fired_total));
  metrics_->counter_callback("tl_engine_storage_failures_total", "Batches refused because the write failed",
                             read(stats.storage_failures_total));
  metrics_->counter_callback("tl_engine_checkpoints_total", "Checkpoints written", read(stats.checkpoints_total));
  metrics_->gauge_callback("tl_engine_queue_depth", "Commands waiting for the writer", read(stats.queue_depth));
  metrics_->gauge_callback("tl_engine_timers_pending", "Timers scheduled in the wheel", read(stats.timers_pending));
  metrics_->gauge_callback("tl_engine_log_position", "Position of the last applied event", read(stats.last_position));
  metrics_->gauge_callback("tl_engine_checkpoint_position", "Position of the last checkpoint", read(stats.checkpoint_position));
  metrics_->gauge_callback("tl_engine_checkpoint_pause_milliseconds",
                           "How long the writer paused to snapshot the state for the last scheduled checkpoint",
                           read(stats.checkpoint_snapshot_ms));
  metrics_->gauge_callback("tl_engine_checkpoint_write_milliseconds",
                           "How long hashing and writing the last checkpoint took (beside the writer when scheduled)",
                           read(stats.checkpoint_write_ms));
  // Batch sizes as a Prometheus histogram: every command is in exactly one batch, so the sum is
  // the command count and the count is the batch count.
  metrics_->text_callback([&stats](std::string& out) {
    out += "# HELP tl_engine_batch_commands Commands per group commit\n# TYPE tl_engine_batch_commands histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < EngineStats::batch_size_buckets; ++i) {
      cumulative += stats.batch_size_counts[i].load(std::memory_order_relaxed);
      fmt::format_to(std::back_inserter(out), "tl_engine_batch_commands_bucket{{le=\"{}\"}} {}\n", uint64_t{1} << i, cumulative);
    }
    const uint64_t batches = stats.batches_total.load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(out), "tl_engine_batch_commands_bucket{{le=\"+Inf\"}} {}\n", batches);
    fmt::format_to(std::back_inserter(out), "tl_engine_batch_commands_sum {}\n", stats.commands_total.load(std::memory_order_relaxed));
    fmt::format_to(std::back_inserter(out), "tl_engine_batch_commands_count {}\n", batches);

    out += "# HELP tl_engine_batch_write_seconds Durable write of one group commit (WriteBatch and fsync)\n"
           "# TYPE tl_engine_batch_write_seconds histogram\n";
    uint64_t writes = 0;
    for (size_t i = 0; i < EngineStats::batch_write_bounds_micros.size(); ++i) {
      writes += stats.batch_write_counts[i].load(std::memory_order_relaxed);
      out += "tl_engine_batch_write_seconds_bucket{le=\"";
      append_prometheus_seconds(out, EngineStats::batch_write_bounds_micros[i]);
      fmt::format_to(std::back_inserter(out), "\"}} {}\n", writes);
    }
    writes += stats.batch_write_counts[EngineStats::batch_write_bounds_micros.size()].load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(out), "tl_engine_batch_write_seconds_bucket{{le=\"+Inf\"}} {}\n", writes);
    out += "tl_engine_batch_write_seconds_sum ";
    append_prometheus_seconds(out, stats.batch_write_micros_sum.load(std::memory_order_relaxed));
    fmt::format_to(std::back_inserter(out), "\ntl_engine_batch_write_seconds_count {}\n", writes);
  });
}

}  // namespace tl::api
