#include "core/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tether::core {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersPrometheusTextFormat) {
  MetricsRegistry r;
  r.counter("tether_http_requests_total", "HTTP requests",
            {{"route", "/healthz"}, {"status", "200"}})
      .inc();
  r.counter("tether_http_requests_total", "HTTP requests",
            {{"route", "/healthz"}, {"status", "200"}})
      .inc(2);
  r.gauge("tether_up", "Up").set(1);
  auto& h =
      r.histogram("tether_http_request_duration_seconds", "Latency", {{"route", "/x"}}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const std::string text = r.render();
  EXPECT_THAT(text, HasSubstr("# TYPE tether_http_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("tether_http_requests_total{route=\"/healthz\",status=\"200\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("tether_up 1\n"));
  EXPECT_THAT(
      text, HasSubstr("tether_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("tether_http_request_duration_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"));
  EXPECT_THAT(
      text, HasSubstr("tether_http_request_duration_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("tether_http_request_duration_seconds_count{route=\"/x\"} 3\n"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(renderLabels({{"name", "a\"b\\c\nd"}}), "{name=\"a\\\"b\\\\c\\nd\"}");
}

TEST(MetricsTest, CallbackGaugesAreEvaluatedAtScrape) {
  MetricsRegistry r;
  int calls = 0;
  r.gaugeCallback("tether_connections", "Connections by state", [&] {
    ++calls;
    return std::vector<std::pair<Labels, double>>{{{{"state", "connected"}}, 4}};
  });
  EXPECT_THAT(r.render(), HasSubstr("tether_connections{state=\"connected\"} 4\n"));
  EXPECT_EQ(calls, 1);
}

}  // namespace
// Threads add to their own shards; reads and the scrape see the sum of all of them.
TEST(MetricsTest, UpdatesFromManyThreadsAddUp) {
  MetricsRegistry registry;
  auto& counter = registry.counter("calls_total", "calls");
  auto& histogram = registry.histogram("call_seconds", "latency", {}, {0.1, 1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        counter.inc();
        histogram.observe(i % 2 ? 0.5 : 2.0);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.value(), 12000);
  EXPECT_EQ(histogram.cumulativeCounts(), (std::vector<uint64_t>{0, 6000, 12000}));
  EXPECT_DOUBLE_EQ(histogram.sum(), 6000 * 0.5 + 6000 * 2.0);
  EXPECT_THAT(registry.render(), testing::HasSubstr("calls_total 12000"));
}

}  // namespace tether::core
