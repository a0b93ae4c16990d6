// The access log line (http/request_log.h) on its fast path: the same line write() would
// give for the same values, and what a client chose still masked when it holds a secret.
#include "http/request_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/redact.h"

namespace tether::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kSecret = "registered-admin-key-0123456789";

class RequestLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::log::init(core::log::Format::kJson, core::LogLevel::kInfo);
    core::log::setSinkForTesting([this](std::string_view line) { lines_.emplace_back(line); });
    core::registerSecret(kSecret);
  }
  void TearDown() override {
    core::log::setSinkForTesting(nullptr);
    core::clearRegisteredSecrets();
  }
  static Request proxiedCall() {
    Request req;
    req.method = "POST";
    req.route = "/mcp/{name}";
    req.connection = "mcp/docs";
    req.subject = "ci-bot";
    req.request_id = "a1e8cbf11a0009ac0000000000000469";
    req.remote_address = "10.0.0.7";
    return req;
  }
  // A line without its timestamp (the two lines compared are written at different times).
  static std::string withoutTs(const std::string& line) {
    const auto at = line.find("\"level\"");
    return at == std::string::npos ? line : line.substr(at);
  }
  std::vector<std::string> lines_;
};

TEST_F(RequestLogTest, TheLineIsTheOneWriteWouldGive) {
  for (const auto format : {core::log::Format::kJson, core::log::Format::kText}) {
    lines_.clear();
    core::log::init(format, core::LogLevel::kInfo);
    RequestRecorder recorder(nullptr, 1, true);
    const Request req = proxiedCall();
    recorder.record(0, req.route, req.method, 200, std::chrono::steady_clock::now(), &req);
    ASSERT_EQ(lines_.size(), 1u);
    // The duration is measured: take the written one for the reference line.
    const std::string& line = lines_[0];
    const auto d =
        line.find(format == core::log::Format::kJson ? "\"duration_ms\":" : "duration_ms=");
    ASSERT_NE(d, std::string::npos) << line;
    const auto from = line.find_first_of(":=", d + 11) + 1;
    const std::string duration = line.substr(from, line.find_first_of(", ", from) - from);
    const std::string reference =
        core::log::formatLine(format, core::LogLevel::kInfo, "request",
                              {{"method", "POST"},
                               {"route", "/mcp/{name}"},
                               {"connection", "mcp/docs"},
                               {"status", 200},
                               {"duration_ms", std::stod(duration)},
                               {"subject", "ci-bot"},
                               {"request_id", "a1e8cbf11a0009ac0000000000000469"},
                               {"trace_id", ""},
                               {"remote", "10.0.0.7"}});
    if (format == core::log::Format::kJson) {
      EXPECT_EQ(withoutTs(line), withoutTs(reference));
      EXPECT_NO_THROW(boost::json::parse(line));
    } else {
      EXPECT_EQ(line.substr(line.find(' ')), reference.substr(reference.find(' ')));
    }
  }
}

TEST_F(RequestLogTest, WhatAClientChoseIsStillRedacted) {
  RequestRecorder recorder(nullptr, 1, true);
  Request req = proxiedCall();
  // A client's own X-Request-Id that happens to be a registered secret, and a method that
  // is not a standard one.
  req.headers.push_back({"X-Request-Id", std::string(kSecret)});
  req.request_id = kSecret;
  req.method = std::string("X") + std::string(kSecret);
  recorder.record(0, req.route, req.method, 404, std::chrono::steady_clock::now(), &req);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], Not(HasSubstr(kSecret)));
  EXPECT_THAT(lines_[0], HasSubstr("\"request_id\":\"[REDACTED]\""));
  EXPECT_THAT(lines_[0], HasSubstr("\"route\":\"/mcp/{name}\""));
}

TEST_F(RequestLogTest, OffAtInfoButA5xxIsLoggedAtWarn) {
  RequestRecorder recorder(nullptr, 1, false);
  const Request req = proxiedCall();
  recorder.record(0, req.route, req.method, 200, std::chrono::steady_clock::now(), &req);
  EXPECT_TRUE(lines_.empty());
  recorder.record(0, req.route, req.method, 502, std::chrono::steady_clock::now(), &req);
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_THAT(lines_[0], HasSubstr("\"level\":\"warn\""));
  EXPECT_THAT(lines_[0], HasSubstr("\"status\":502"));
}

}  // namespace
}  // namespace tether::http
