// The Prometheus registry: the rendered text is parsed back and checked line by line (format
// 0.0.4), histograms are cumulative, label values are escaped, and concurrent updates add up.
#include <doctest/doctest.h>

#include <charconv>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/metrics.h"

namespace {

struct Sample {
  std::string name;
  std::string labels;  // raw text between the braces
  std::string value;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family name -> type
  std::map<std::string, std::string> helps;
  std::vector<Sample> samples;
  std::vector<std::string> errors;
};

bool is_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

// Reads label text `a="x",b="y"`: names, '=', quoted values with only \\ \" \n escapes.
bool labels_well_formed(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t name_start = i;
    while (i < text.size() && is_name_char(text[i], i == name_start)) ++i;
    if (i == name_start || i + 1 >= text.size() || text[i] != '=' || text[i + 1] != '"') return false;
    i += 2;
    for (;; ++i) {
      if (i >= text.size() || text[i] == '\n') return false;
      if (text[i] == '"') break;
      if (text[i] == '\\') {
        if (i + 1 >= text.size() || (text[i + 1] != '\\' && text[i + 1] != '"' && text[i + 1] != 'n')) return false;
        ++i;
      }
    }
    ++i;  // closing quote
    if (i == text.size()) return true;
    if (text[i] != ',') return false;
    ++i;
  }
  return true;
}

bool is_number(std::string_view text) {
  if (text == "+Inf" || text == "-Inf" || text == "NaN") return true;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

Exposition parse(const std::string& text) {
  Exposition exposition;
  REQUIRE((text.empty() || text.back() == '\n'));
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("# HELP ")) {
      const std::string rest = line.substr(7);
      exposition.helps[rest.substr(0, rest.find(' '))] = rest.substr(rest.find(' ') + 1);
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      if (type != "counter" && type != "gauge" && type != "histogram") exposition.errors.push_back("type: " + line);
      exposition.types[name] = type;
      continue;
    }
    Sample sample;
    size_t i = 0;
    while (i < line.size() && is_name_char(line[i], i == 0)) ++i;
    sample.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      // The label text ends at the '}' that is not inside a quoted value.
      size_t j = i + 1;
      bool quoted = false;
      for (; j < line.size(); ++j) {
        if (quoted && line[j] == '\\') { ++j; continue; }
        if (line[j] == '"') quoted = !quoted;
        if (!quoted && line[j] == '}') break;
      }
      sample.labels = line.substr(i + 1, j - i - 1);
      i = j + 1;
    }
    if (sample.name.empty() || i >= line.size() || line[i] != ' ' || !labels_well_formed(sample.labels)) {
      exposition.errors.push_back("sample: " + line);
      continue;
    }
    sample.value = line.substr(i + 1);
    if (!is_number(sample.value)) exposition.errors.push_back("value: " + line);
    exposition.samples.push_back(sample);
  }
  return exposition;
}

std::string family_of(const std::string& sample_name, const Exposition& exposition) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    if (sample_name.ends_with(suffix)) {
      const std::string base = sample_name.substr(0, sample_name.size() - std::string(suffix).size());
      if (exposition.types.count(base) && exposition.types.at(base) == "histogram") return base;
    }
  }
  return sample_name;
}

}  // namespace

TEST_CASE("RenderedTextParsesBackAndEverySampleBelongsToATypedFamily") {
  tl::MetricsRegistry registry;
  auto requests = registry.counter_family("tl_http_requests_total", "Requests by route and status", {"route", "status"});
  requests.with({"POST /api/bookings", "201"}).add(3);
  requests.with({"GET /api/bookings/{id}", "404"}).add();
  registry.counter("tl_refused_total", "Refused connections").add(2);
  registry.gauge("tl_open", "Open connections").set(-4);
  registry.gauge_callback("tl_queue_depth", "Commands waiting for the writer", [] { return int64_t{17}; });
  auto latency = registry.latency_histogram_family("tl_latency_seconds", "Latency", {"route"});
  latency.with({"GET /healthz"}).observe_micros(300);
  latency.with({"GET /healthz"}).observe_micros(7'000'000);

  const std::string text = registry.render();
  const Exposition exposition = parse(text);
  CHECK(exposition.errors.empty());
  for (const std::string& error : exposition.errors) MESSAGE(error);
  for (const Sample& sample : exposition.samples) {
    CAPTURE(sample.name);
    CHECK(exposition.types.count(family_of(sample.name, exposition)) == 1);
  }
  CHECK(exposition.types.at("tl_http_requests_total") == "counter");
  CHECK(exposition.types.at("tl_open") == "gauge");
  CHECK(exposition.types.at("tl_queue_depth") == "gauge");
  CHECK(exposition.types.at("tl_latency_seconds") == "histogram");
  CHECK(text.find("tl_http_requests_total{route=\"POST /api/bookings\",status=\"201\"} 3\n") != std::string::npos);
  CHECK(text.find("tl_refused_total 2\n") != std::string::npos);
  CHECK(text.find("tl_open -4\n") != std::string::npos);
  CHECK(text.find("tl_queue_depth 17\n") != std::string::npos);
  CHECK(text.find("tl_latency_seconds_bucket{route=\"GET /healthz\",le=\"0.0005\"} 1\n") != std::string::npos);
  CHECK(text.find("tl_latency_seconds_bucket{route=\"GET /healthz\",le=\"5\"} 1\n") != std::string::npos);
  CHECK(text.find("tl_latency_seconds_bucket{route=\"GET /healthz\",le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(text.find("tl_latency_seconds_sum{route=\"GET /healthz\"} 7.0003\n") != std::string::npos);
  CHECK(text.find("tl_latency_seconds_count{route=\"GET /healthz\"} 2\n") != std::string::npos);
}

TEST_CASE("HistogramBucketsAreCumulativeAndEndWithTheCount") {
  tl::MetricsRegistry registry;
  auto latency = registry.latency_histogram_family("tl_latency_seconds", "Latency", {});
  auto& histogram = latency.with({});
  const uint64_t observations[] = {0, 500, 501, 999, 1000, 2'400, 40'000, 40'000, 4'999'999, 5'000'000, 5'000'001, 60'000'000};
  for (uint64_t micros : observations) histogram.observe_micros(micros);

  const Exposition exposition = parse(registry.render());
  REQUIRE(exposition.errors.empty());
  std::vector<std::pair<std::string, uint64_t>> buckets;
  uint64_t count = 0;
  for (const Sample& sample : exposition.samples) {
    if (sample.name == "tl_latency_seconds_bucket") buckets.emplace_back(sample.labels, std::stoull(sample.value));
    if (sample.name == "tl_latency_seconds_count") count = std::stoull(sample.value);
  }
  REQUIRE(buckets.size() == tl::latency_buckets_micros_default.size() + 1);
  for (size_t i = 1; i < buckets.size(); ++i) CHECK(buckets[i].second >= buckets[i - 1].second);
  CHECK(buckets.front() == std::pair<std::string, uint64_t>{"le=\"0.0005\"", 2});  // 0 and 500: le is inclusive
  CHECK(buckets[1] == std::pair<std::string, uint64_t>{"le=\"0.001\"", 5});
  CHECK(buckets.back() == std::pair<std::string, uint64_t>{"le=\"+Inf\"", std::size(observations)});
  CHECK(count == std::size(observations));
  CHECK(buckets[buckets.size() - 2] == std::pair<std::string, uint64_t>{"le=\"5\"", 10});
}

TEST_CASE("LabelValuesAndHelpTextAreEscaped") {
  tl::MetricsRegistry registry;
  auto family = registry.counter_family("tl_odd_total", "Help with \\ and\nnewline", {"route"});
  family.with({"a\"b\\c\nd"}).add();
  const std::string text = registry.render();
  CHECK(text.find("# HELP tl_odd_total Help with \\\\ and\\nnewline\n") != std::string::npos);
  CHECK(text.find("tl_odd_total{route=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);
  CHECK(parse(text).errors.empty());
}

TEST_CASE("RegisteringAFamilyAgainReturnsTheSameSeries") {
  tl::MetricsRegistry registry;
  registry.counter_family("tl_x_total", "X", {"a"}).with({"1"}).add();
  registry.counter_family("tl_x_total", "X", {"a"}).with({"1"}).add();
  registry.counter("tl_y_total", "Y").add();
  registry.counter("tl_y_total", "Y").add();
  const std::string text = registry.render();
  CHECK(text.find("tl_x_total{a=\"1\"} 2\n") != std::string::npos);
  CHECK(text.find("tl_y_total 2\n") != std::string::npos);
}

TEST_CASE("LabelSetsBeyondTheSeriesLimitShareTheOverflowSeries") {
  tl::MetricsRegistry registry;
  auto family = registry.counter_family("tl_many_total", "Many", {"id"});
  for (size_t i = 0; i < tl::metric_series_max + 10; ++i) family.with({std::to_string(i)}).add();
  family.with({"0"}).add();  // an early series still works
  const std::string text = registry.render();
  CHECK(text.find("tl_many_total{id=\"overflow\"} 10\n") != std::string::npos);
  CHECK(text.find("tl_many_total{id=\"0\"} 2\n") != std::string::npos);
  const Exposition exposition = parse(text);
  CHECK(exposition.samples.size() == tl::metric_series_max + 1);
}

TEST_CASE("ConcurrentUpdatesFromManyThreadsAllCount") {
  tl::MetricsRegistry registry;
  auto requests = registry.counter_family("tl_requests_total", "R", {"route", "status"});
  auto latency = registry.latency_histogram_family("tl_latency_seconds", "L", {"route"});
  constexpr int threads_count = 4;
  constexpr int updates_per_thread = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_count; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < updates_per_thread; ++i) {
        const std::string route = "route" + std::to_string(i % 7);  // series created concurrently too
        requests.with({route, t % 2 ? "200" : "500"}).add();
        latency.with({route}).observe_micros(static_cast<uint64_t>(i));
      }
    });
  }
  std::string during;
  for (int i = 0; i < 20; ++i) during = registry.render();  // scrapes race the updates
  for (auto& thread : threads) thread.join();
  CHECK(parse(during).errors.empty());

  const Exposition exposition = parse(registry.render());
  uint64_t total = 0;
  uint64_t histogram_count = 0;
  for (const Sample& sample : exposition.samples) {
    if (sample.name == "tl_requests_total") total += std::stoull(sample.value);
    if (sample.name == "tl_latency_seconds_count") histogram_count += std::stoull(sample.value);
  }
  CHECK(total == uint64_t{threads_count} * updates_per_thread);
  CHECK(histogram_count == uint64_t{threads_count} * updates_per_thread);
}

TEST_CASE("MetricsResponseCarriesThePrometheusContentType") {
  tl::MetricsRegistry registry;
  registry.counter("tl_a_total", "A").add();
  const tl::HttpResponse response = tl::metrics_response(registry);
  CHECK(response.status == 200);
  CHECK(response.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(response.body == registry.render());
}
