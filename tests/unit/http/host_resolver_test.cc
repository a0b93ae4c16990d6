#include "http/host_resolver.h"

#include <gtest/gtest.h>

#include <chrono>

#include "http/ip_address.h"

namespace tether::http {
namespace {

using namespace std::chrono_literals;

// The system resolver (getaddrinfo on a helper thread, bounded): localhost comes from the
// hosts file, so no query leaves the machine.
TEST(ConnectGuard, TheSystemResolverAnswersWithinItsDeadline) {
  auto local = resolveWithSystem("localhost", 5s);
  ASSERT_TRUE(local.ok()) << local.error().message;
  ASSERT_FALSE(local->empty());
  for (const auto& a : *local) EXPECT_EQ(classifyAddress(a).cls, AddressClass::kLoopback);
}

}  // namespace
}  // namespace tether::http
