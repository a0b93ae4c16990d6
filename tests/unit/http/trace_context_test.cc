#include "http/trace_context.h"

#include <gtest/gtest.h>

namespace tether::http {
namespace {

constexpr std::string_view kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, AcceptsVersion00WithLowerCaseHex) {
  EXPECT_TRUE(validTraceparent(kValid));
  EXPECT_TRUE(validTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
  EXPECT_EQ(traceIdOf(kValid), "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(TraceContextTest, RefusesEverythingElse) {
  for (std::string_view bad : {
           "",
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version 01
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent id
           "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",     // 31 digits
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // trailing data
           "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",    // separator
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",    // flags not hex
           " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // leading space
       }) {
    EXPECT_FALSE(validTraceparent(bad)) << bad;
  }
}

TEST(TraceContextTest, FindsOneValidHeaderAndDropsRepeatedOrInvalidOnes) {
  EXPECT_EQ(findTraceparent({{"Host", "x"}, {"TraceParent", std::string(kValid)}}), kValid);
  EXPECT_EQ(findTraceparent({{"Host", "x"}}), "");
  EXPECT_EQ(findTraceparent({{"traceparent", "00-zz"}}), "");
  EXPECT_EQ(
      findTraceparent({{"traceparent", std::string(kValid)}, {"traceparent", std::string(kValid)}}),
      "");
}

}  // namespace
}  // namespace tether::http
