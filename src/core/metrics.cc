#include "core/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace tether::core {
namespace {

std::string escapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string formatValue(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 1e15 && v > -1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  return fmt::format("{}", v);
}

// Inserts `le` into already rendered labels.
std::string withLe(const std::string& labels, const std::string& le) {
  if (labels.empty()) return "{le=\"" + le + "\"}";
  return labels.substr(0, labels.size() - 1) + ",le=\"" + le + "\"}";
}

}  // namespace

std::string renderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first;
    out += "=\"";
    out += escapeLabelValue(labels[i].second);
    out += '"';
  }
  out += '}';
  return out;
}

namespace detail {

size_t metricShard() {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kMetricShards;
  return shard;
}

}  // namespace detail

double Counter::value() const {
  double total = 0;
  for (const auto& s : shards_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  constexpr size_t kPerLine = std::tuple_size_v<decltype(detail::CountLine::counts)>;
  lines_ = (bounds_.size() + 1 + kPerLine - 1) / kPerLine;
  counts_ = std::make_unique<detail::CountLine[]>(detail::kMetricShards * lines_);
}

void Histogram::observe(double v) {
  const size_t idx =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  const size_t shard = detail::metricShard();
  constexpr size_t kPerLine = std::tuple_size_v<decltype(detail::CountLine::counts)>;
  counts_[shard * lines_ + idx / kPerLine].counts[idx % kPerLine].fetch_add(
      1, std::memory_order_relaxed);
  detail::addDouble(sums_[shard].value, v);
}

double Histogram::sum() const {
  double total = 0;
  for (const auto& s : sums_) total += s.value.load(std::memory_order_relaxed);
  return total;
}

std::vector<uint64_t> Histogram::cumulativeCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    constexpr size_t kPerLine = std::tuple_size_v<decltype(detail::CountLine::counts)>;
    for (size_t shard = 0; shard < detail::kMetricShards; ++shard) {
      acc += counts_[shard * lines_ + i / kPerLine].counts[i % kPerLine].load(
          std::memory_order_relaxed);
    }
    out[i] = acc;
  }
  return out;
}

std::vector<double> defaultLatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help,
                                                 Type type) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = type;
    it->second.help = help;
  } else if (it->second.type != type) {
    throw std::logic_error("metric " + name + " registered with two types");
  }
  return it->second;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Type::kCounter).counters[renderLabels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Type::kGauge).gauges[renderLabels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const Labels& labels, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, help, Type::kHistogram).histograms[renderLabels(labels)];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

void MetricsRegistry::gaugeCallback(const std::string& name, const std::string& help,
                                    std::function<std::vector<std::pair<Labels, double>>()> fn) {
  std::lock_guard lock(mu_);
  family(name, help, Type::kGauge).callback = std::move(fn);
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    const char* type = fam.type == Type::kCounter ? "counter"
                       : fam.type == Type::kGauge ? "gauge"
                                                  : "histogram";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, fam.help, name, type);
    for (const auto& [labels, c] : fam.counters) {
      out += fmt::format("{}{} {}\n", name, labels, formatValue(c->value()));
    }
    for (const auto& [labels, g] : fam.gauges) {
      out += fmt::format("{}{} {}\n", name, labels, formatValue(g->value()));
    }
    if (fam.callback) {
      for (const auto& [labels, v] : fam.callback()) {
        out += fmt::format("{}{} {}\n", name, renderLabels(labels), formatValue(v));
      }
    }
    for (const auto& [labels, h] : fam.histograms) {
      const auto counts = h->cumulativeCounts();
      for (size_t i = 0; i < h->bounds().size(); ++i) {
        out += fmt::format("{}_bucket{} {}\n", name,
                           withLe(labels, fmt::format("{}", h->bounds()[i])), counts[i]);
      }
      out += fmt::format("{}_bucket{} {}\n", name, withLe(labels, "+Inf"), counts.back());
      out += fmt::format("{}_sum{} {}\n", name, labels, formatValue(h->sum()));
      out += fmt::format("{}_count{} {}\n", name, labels, counts.back());
    }
  }
  return out;
}

}  // namespace tether::core
