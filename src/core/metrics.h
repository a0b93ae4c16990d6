#pragma once
/// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text
/// exposition format (version 0.0.4). Thread-safe. Handles returned by the registry stay
/// valid for the registry's life, so hot paths resolve a series once and then only touch
/// an atomic.

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tether::core {

using Labels = std::vector<std::pair<std::string, std::string>>;

namespace detail {
// Hot series are updated by every I/O thread for every request: each thread adds to its own
// cache line (its shard) instead of all bouncing one line between cores; a scrape sums them.
inline constexpr size_t kMetricShards = 8;
// The calling thread's shard (threads get them in turn).
size_t metricShard();
// atomic<double>::fetch_add is a compare-exchange loop; on a shard it rarely retries.
inline void addDouble(std::atomic<double>& a, double v) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}
struct alignas(64) DoubleShard {
  std::atomic<double> value{0};
};
struct alignas(64) CountLine {
  std::array<std::atomic<uint64_t>, 8> counts{};
};
}  // namespace detail

class Counter {
 public:
  void inc(double v = 1) { detail::addDouble(shards_[detail::metricShard()].value, v); }
  double value() const;

 private:
  std::array<detail::DoubleShard, detail::kMetricShards> shards_{};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  /// Cumulative counts per bound, then +Inf; sum.
  std::vector<uint64_t> cumulativeCounts() const;
  double sum() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  size_t lines_ = 0;                             // cache lines of counts per shard
  std::unique_ptr<detail::CountLine[]> counts_;  // kMetricShards * lines_
  std::array<detail::DoubleShard, detail::kMetricShards> sums_{};
};

/// Default latency buckets in seconds (100 µs .. 10 s).
std::vector<double> defaultLatencyBuckets();

class MetricsRegistry {
 public:
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const Labels& labels = {},
                       std::vector<double> bounds = defaultLatencyBuckets());
  /// A gauge whose value is computed at scrape time (for example connections by state).
  /// The callback returns every series of the family.
  void gaugeCallback(const std::string& name, const std::string& help,
                     std::function<std::vector<std::pair<Labels, double>>()> fn);

  /// The whole registry in Prometheus text format.
  std::string render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // key: rendered labels
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
    std::function<std::vector<std::pair<Labels, double>>()> callback;
  };
  Family& family(const std::string& name, const std::string& help, Type type);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

/// Renders `{a="x",b="y"}` with Prometheus escaping ("" for no labels).
std::string renderLabels(const Labels& labels);

}  // namespace tether::core
