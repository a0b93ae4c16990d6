// keeper, events and discovery.

#include "unit/config/sections/section_test_util.h"

namespace tether::config::sections {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;

using KeeperSectionTest = SectionTest;

TEST_F(KeeperSectionTest, Keeper) {
  KeeperConfig k;
  parseKeeper(reader_, entry("{interval: 1m, jitter: 0s, concurrency: 4}", "keeper"), k);
  EXPECT_EQ(errors(), "");
  EXPECT_EQ(k.interval, minutes(1));
  EXPECT_EQ(k.jitter, milliseconds(0));
  EXPECT_EQ(k.concurrency, 4);
  EXPECT_EQ(k.backoff_max, minutes(5));
}

TEST_F(KeeperSectionTest, BackoffMaxMustNotBeShorterThanInitial) {
  KeeperConfig k;
  parseKeeper(reader_, entry("backoff_initial: 10m\nbackoff_max: 1m\n", "keeper"), k);
  EXPECT_EQ(errors(),
            "t.yaml:2: keeper.backoff_max: backoff_max (1m) must not be shorter than "
            "backoff_initial (10m)");
}

TEST_F(KeeperSectionTest, ZeroIntervalIsRefused) {
  KeeperConfig k;
  parseKeeper(reader_, entry("{interval: 0s}", "keeper"), k);
  EXPECT_EQ(errors(), "t.yaml:1: keeper.interval: must be longer than 0s, got \"0s\"");
}

TEST_F(KeeperSectionTest, Events) {
  EventsConfig e;
  parseEvents(reader_, entry("{retention: 30d, prune_interval: 12h}", "events"), e);
  EXPECT_EQ(e.retention, hours(24 * 30));
  EXPECT_EQ(e.prune_interval, hours(12));
  EXPECT_EQ(errors(), "");
}

TEST_F(KeeperSectionTest, DiscoveryHostsAreLowerCaseNamesOnly) {
  DiscoveryConfig d;
  parseDiscovery(reader_,
                 entry("allowed_hosts: [IdP.Example.com, \"https://x.example\"]", "discovery"), d);
  EXPECT_THAT(d.allowed_hosts, ElementsAre("idp.example.com"));
  EXPECT_EQ(errors(),
            "t.yaml:1: discovery.allowed_hosts[1]: expected a host name such as idp.example.com "
            "(no scheme, port or path), got \"https://x.example\"");
}

}  // namespace
}  // namespace tether::config::sections
