#include "api/metrics.h"

#include <algorithm>
#include <cassert>
#include <mutex>

#include <fmt/format.h>

namespace tl {

// 500 -> "0.0005", 1500000 -> "1.5", 5000000 -> "5": exact, no floating point.
void append_prometheus_seconds(std::string& out, uint64_t micros) {
  fmt::format_to(std::back_inserter(out), "{}", micros / 1'000'000);
  uint64_t fraction = micros % 1'000'000;
  if (fraction == 0) return;
  int digits = 6;
  while (fraction % 10 == 0) {
    fraction /= 10;
    --digits;
  }
  fmt::format_to(std::back_inserter(out), ".{:0{}}", fraction, digits);
}

namespace metrics_detail {
namespace {

bool is_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

[[maybe_unused]] bool is_label_name(std::string_view name) {
  return is_metric_name(name) && name.find(':') == std::string_view::npos && !name.starts_with("__");
}

uint64_t hash_labels(std::span<const std::string_view> values) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a, with a separator so ("ab","c") != ("a","bc")
  for (std::string_view value : values) {
    for (char c : value) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    hash = (hash ^ 0xFFu) * 1099511628211ull;
  }
  return hash;
}

// Label values: backslash, double quote and line feed are escaped (exposition format 0.0.4).
void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
}

// HELP text: backslash and line feed are escaped.
void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
}

}  // namespace

enum class Kind { counter, histogram, gauge, gauge_callback, counter_callback };

struct Series {
  std::vector<std::string> label_values;
  uint64_t hash = 0;
  std::unique_ptr<Counter> counter;
  std::unique_ptr<LatencyHistogram> histogram;
  std::unique_ptr<Gauge> gauge;

  bool has_labels(std::span<const std::string_view> values) const {
    return std::equal(label_values.begin(), label_values.end(), values.begin(), values.end());
  }
};

class Family {
 public:
  Family(Kind kind, std::string_view name, std::string_view help, std::initializer_list<std::string_view> label_names,
         std::span<const uint64_t> bounds_micros)
      : kind_(kind), name_(name), help_(help), bounds_micros_(bounds_micros.begin(), bounds_micros.end()),
        slots_(std::make_unique<std::atomic<Series*>[]>(slot_count)) {
    assert(is_metric_name(name));
    assert(label_names.size() <= metric_labels_max);
    for (std::string_view label : label_names) {
      assert(is_label_name(label) && label != "le");
      label_names_.emplace_back(label);
    }
    assert(std::is_sorted(bounds_micros_.begin(), bounds_micros_.end()));
  }

  bool same_shape(Kind kind, std::initializer_list<std::string_view> label_names) const {
    return kind == kind_ && std::equal(label_names_.begin(), label_names_.end(), label_names.begin(), label_names.end());
  }
  Kind kind() const { return kind_; }
  const std::string& name() const { return name_; }
  void set_callback(std::function<int64_t()> read) { read_ = std::move(read); }

  // Lock-free when the series exists: probe the table, compare hash then values.
  Series& find_or_add(std::span<const std::string_view> values) {
    assert(values.size() == label_names_.size());
    const uint64_t hash = hash_labels(values);
    for (size_t i = hash & slot_mask, probes = 0; probes < slot_count; i = (i + 1) & slot_mask, ++probes) {
      Series* series = slots_[i].load(std::memory_order_acquire);
      if (series == nullptr) break;
      if (series->hash == hash && series->has_labels(values)) return *series;
    }
    return add(values, hash);
  }

  void render(std::string& out) const {
    static constexpr std::string_view type_names[] = {"counter", "histogram", "gauge", "gauge", "counter"};
    out += "# HELP ";
    out += name_;
    out += ' ';
    append_help(out, help_);
    fmt::format_to(std::back_inserter(out), "\n# TYPE {} {}\n", name_, type_names[static_cast<int>(kind_)]);
    if (kind_ == Kind::gauge_callback || kind_ == Kind::counter_callback) {
      if (read_) fmt::format_to(std::back_inserter(out), "{} {}\n", name_, read_());
      return;
    }
    std::lock_guard lock(mutex_);
    for (const auto& series : series_) render_series(out, *series);
  }

 private:
  static constexpr size_t slot_count = 2 * metric_series_max;  // at most half full: probes stay short
  static constexpr size_t slot_mask = slot_count - 1;
  static_assert((slot_count & slot_mask) == 0, "slot_count is a power of two");

  Series& add(std::span<const std::string_view> values, uint64_t hash) {
    std::lock_guard lock(mutex_);
    size_t free_slot = slot_count;
    for (size_t i = hash & slot_mask, probes = 0; probes < slot_count; i = (i + 1) & slot_mask, ++probes) {
      Series* series = slots_[i].load(std::memory_order_relaxed);  // writers hold the mutex
      if (series == nullptr) {
        free_slot = i;
        break;
      }
      if (series->hash == hash && series->has_labels(values)) return *series;
    }
    if (series_.size() >= metric_series_max) return overflow_series();
    assert(free_slot < slot_count);
    Series& series = make_series(std::vector<std::string>(values.begin(), values.end()), hash);
    slots_[free_slot].store(&series, std::memory_order_release);  // publish after it is complete
    return series;
  }

  Series& overflow_series() {
    if (overflow_ == nullptr) overflow_ = &make_series(std::vector<std::string>(label_names_.size(), "overflow"), 0);
    return *overflow_;
  }

  Series& make_series(std::vector<std::string> values, uint64_t hash) {
    auto series = std::make_unique<Series>();
    series->label_values = std::move(values);
    series->hash = hash;
    if (kind_ == Kind::counter) series->counter = std::make_unique<Counter>();
    if (kind_ == Kind::histogram) series->histogram = std::make_unique<LatencyHistogram>(bounds_micros_);
    if (kind_ == Kind::gauge) series->gauge = std::make_unique<Gauge>();
    series_.push_back(std::move(series));
    return *series_.back();
  }

  // `{a="x",b="y"` without the closing brace, so histograms can append `le`.
  void append_labels_open(std::string& out, const Series& series) const {
    out += '{';
    for (size_t i = 0; i < label_names_.size(); ++i) {
      if (i > 0) out += ',';
      out += label_names_[i];
      out += "=\"";
      append_label_value(out, series.label_values[i]);
      out += '"';
    }
  }

  void append_labels(std::string& out, const Series& series) const {
    if (label_names_.empty()) return;
    append_labels_open(out, series);
    out += '}';
  }

  void render_series(std::string& out, const Series& series) const {
    if (kind_ == Kind::counter || kind_ == Kind::gauge) {
      out += name_;
      append_labels(out, series);
      if (kind_ == Kind::counter) fmt::format_to(std::back_inserter(out), " {}\n", series.counter->value());
      else fmt::format_to(std::back_inserter(out), " {}\n", series.gauge->value());
      return;
    }
    const LatencyHistogram::Snapshot snapshot = series.histogram->snapshot();
    for (size_t i = 0; i < snapshot.cumulative.size(); ++i) {
      out += name_;
      out += "_bucket";
      append_labels_open(out, series);
      out += label_names_.empty() ? "le=\"" : ",le=\"";
      if (i < bounds_micros_.size()) append_prometheus_seconds(out, bounds_micros_[i]);
      else out += "+Inf";
      fmt::format_to(std::back_inserter(out), "\"}} {}\n", snapshot.cumulative[i]);
    }
    out += name_;
    out += "_sum";
    append_labels(out, series);
    out += ' ';
    append_prometheus_seconds(out, snapshot.sum_micros);
    out += '\n';
    out += name_;
    out += "_count";
    append_labels(out, series);
    fmt::format_to(std::back_inserter(out), " {}\n", snapshot.cumulative.back());
  }

  const Kind kind_;
  const std::string name_;
  const std::string help_;
  std::vector<std::string> label_names_;
  const std::vector<uint64_t> bounds_micros_;
  std::function<int64_t()> read_;
  std::unique_ptr<std::atomic<Series*>[]> slots_;
  mutable std::mutex mutex_;                     // creating series and rendering, never updates
  std::vector<std::unique_ptr<Series>> series_;  // creation order
  Series* overflow_ = nullptr;
};

}  // namespace metrics_detail

using metrics_detail::Family;
using metrics_detail::Kind;

LatencyHistogram::LatencyHistogram(std::span<const uint64_t> bounds_micros)
    : bounds_(bounds_micros), bucket_counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_micros.size() + 1)) {
  assert(std::is_sorted(bounds_.begin(), bounds_.end()));
}

void LatencyHistogram::observe_micros(uint64_t micros) {
  // Bucket i counts observations <= bounds_[i] ("le"); past the last bound is +Inf.
  const size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), micros) - bounds_.begin();
  assert(bucket <= bounds_.size());
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(micros, std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot snapshot;
  snapshot.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative[i] = running;
  }
  snapshot.sum_micros = sum_micros_.load(std::memory_order_relaxed);
  return snapshot;
}

Counter& CounterFamily::with(std::initializer_list<std::string_view> label_values) const {
  return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
}

Counter& CounterFamily::with(std::span<const std::string_view> label_values) const {
  return *family_->find_or_add(label_values).counter;
}

LatencyHistogram& HistogramFamily::with(std::initializer_list<std::string_view> label_values) const {
  return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
}

LatencyHistogram& HistogramFamily::with(std::span<const std::string_view> label_values) const {
  return *family_->find_or_add(label_values).histogram;
}

struct MetricsRegistry::Impl {
  mutable std::mutex mutex;  // registration and the family list; never taken on the hot path
  std::vector<std::unique_ptr<Family>> families;
  std::vector<std::function<void(std::string&)>> text_callbacks;

  Family& family(Kind kind, std::string_view name, std::string_view help,
                 std::initializer_list<std::string_view> label_names, std::span<const uint64_t> bounds_micros = {}) {
    std::lock_guard lock(mutex);
    for (const auto& existing : families) {
      if (existing->name() != name) continue;
      assert(existing->same_shape(kind, label_names) && "metric registered twice with another type or labels");
      return *existing;
    }
    families.push_back(std::make_unique<Family>(kind, name, help, label_names, bounds_micros));
    return *families.back();
  }
};

MetricsRegistry::MetricsRegistry() : impl_(std::make_unique<Impl>()) {}
MetricsRegistry::~MetricsRegistry() = default;

CounterFamily MetricsRegistry::counter_family(std::string_view name, std::string_view help,
                                              std::initializer_list<std::string_view> label_names) {
  return CounterFamily(&impl_->family(Kind::counter, name, help, label_names));
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help) {
  return *impl_->family(Kind::counter, name, help, {}).find_or_add({}).counter;
}

HistogramFamily MetricsRegistry::latency_histogram_family(std::string_view name, std::string_view help,
                                                          std::initializer_list<std::string_view> label_names,
                                                          std::span<const uint64_t> bounds_micros) {
  assert(!bounds_micros.empty());
  return HistogramFamily(&impl_->family(Kind::histogram, name, help, label_names, bounds_micros));
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help) {
  return *impl_->family(Kind::gauge, name, help, {}).find_or_add({}).gauge;
}

void MetricsRegistry::gauge_callback(std::string_view name, std::string_view help, std::function<int64_t()> read) {
  assert(read);
  Family& family = impl_->family(Kind::gauge_callback, name, help, {});
  std::lock_guard lock(impl_->mutex);  // render() reads callbacks under this mutex
  family.set_callback(std::move(read));
}

void MetricsRegistry::counter_callback(std::string_view name, std::string_view help, std::function<int64_t()> read) {
  assert(read && name.ends_with("_total"));
  Family& family = impl_->family(Kind::counter_callback, name, help, {});
  std::lock_guard lock(impl_->mutex);
  family.set_callback(std::move(read));
}

void MetricsRegistry::text_callback(std::function<void(std::string&)> append) {
  assert(append);
  std::lock_guard lock(impl_->mutex);
  impl_->text_callbacks.push_back(std::move(append));
}

std::string MetricsRegistry::render() const {
  std::string out;
  std::lock_guard lock(impl_->mutex);
  for (const auto& family : impl_->families) family->render(out);
  for (const auto& append : impl_->text_callbacks) append(out);
  return out;
}

HttpResponse metrics_response(const MetricsRegistry& registry) {
  HttpResponse response;
  response.status = 200;
  response.content_type = std::string(prometheus_content_type);
  response.body = registry.render();
  response.log_route = "GET /metrics";
  return response;
}

}  // namespace tl
