#pragma once
// A small Prometheus registry: counters and latency histograms with labels, plain gauges, and
// gauges read through callbacks at scrape time. The hot path is atomics only: a labelled series is
// found through a lock-free open-addressing table (a per-family mutex is taken only to create a new
// series, once per label set), then updated with relaxed atomic adds. render() writes the text
// exposition format 0.0.4.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"

namespace tl {

// Label sets per family; further new label sets share one series whose labels are all "overflow",
// so a cardinality bug costs one series, not memory without bound.
constexpr size_t metric_series_max = 512;
constexpr size_t metric_labels_max = 4;

// Bucket upper bounds in microseconds (rendered in seconds: 0.0005 ... 5).
constexpr std::array<uint64_t, 13> latency_buckets_micros_default = {
    500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000};

// Appends a duration given in microseconds as Prometheus seconds, exactly: 500 -> "0.0005".
void append_prometheus_seconds(std::string& out, uint64_t micros);

constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

class Counter {
 public:
  void add(uint64_t count = 1) { value_.fetch_add(count, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void add(int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Durations in integer microseconds (no floating point on the hot path); rendered in seconds.
class LatencyHistogram {
 public:
  explicit LatencyHistogram(std::span<const uint64_t> bounds_micros);  // ascending; must outlive this
  void observe_micros(uint64_t micros);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    uint64_t sum_micros = 0;
  };
  Snapshot snapshot() const;
  std::span<const uint64_t> bounds_micros() const { return bounds_; }

 private:
  std::span<const uint64_t> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts_;  // not cumulative; the last is +Inf
  std::atomic<uint64_t> sum_micros_{0};
};

namespace metrics_detail {
class Family;
}

// A handle to a counter family with labels; cheap to copy, valid as long as its registry.
class CounterFamily {
 public:
  // The counter for these label values (one per label name, in order). Lock-free once it exists.
  Counter& with(std::initializer_list<std::string_view> label_values) const;
  Counter& with(std::span<const std::string_view> label_values) const;

 private:
  friend class MetricsRegistry;
  explicit CounterFamily(metrics_detail::Family* family) : family_(family) {}
  metrics_detail::Family* family_;
};

class HistogramFamily {
 public:
  LatencyHistogram& with(std::initializer_list<std::string_view> label_values) const;
  LatencyHistogram& with(std::span<const std::string_view> label_values) const;

 private:
  friend class MetricsRegistry;
  explicit HistogramFamily(metrics_detail::Family* family) : family_(family) {}
  metrics_detail::Family* family_;
};

// Families are registered at start-up and live as long as the registry. Registering a name again
// with the same type and labels returns the same family; anything else is a programmer error
// (asserted). Names follow Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*); counters end in _total.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  CounterFamily counter_family(std::string_view name, std::string_view help,
                               std::initializer_list<std::string_view> label_names);
  Counter& counter(std::string_view name, std::string_view help);
  HistogramFamily latency_histogram_family(
      std::string_view name, std::string_view help, std::initializer_list<std::string_view> label_names,
      std::span<const uint64_t> bounds_micros = latency_buckets_micros_default);
  Gauge& gauge(std::string_view name, std::string_view help);
  // `read` is called at every render(), from the scraping thread; it must be thread-safe and stay
  // valid as long as the registry is rendered.
  void gauge_callback(std::string_view name, std::string_view help, std::function<int64_t()> read);
  // The same for a counter kept elsewhere (e.g. the engine's): `read` must never go down.
  void counter_callback(std::string_view name, std::string_view help, std::function<int64_t()> read);

  // Appends whole, already-formatted families (HELP, TYPE and samples) at every render(), after
  // the registered ones: for metrics whose shape the registry does not model.
  void text_callback(std::function<void(std::string&)> append);

  // Text exposition format 0.0.4, families in registration order, series in creation order.
  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// 200 with the rendered text and the Prometheus content type, for GET /metrics.
HttpResponse metrics_response(const MetricsRegistry& registry);

}  // namespace tl
