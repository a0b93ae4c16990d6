// SIGHUP changes the lifecycle's settings (Lifecycle::setSettings) on the reload thread while
// the process's bootstrap thread may still be starting the keeper (Lifecycle::start). The two
// once met on a live `tether serve`: the old keeper was destroyed while its thread was being
// started, and the process died with "terminate called without an active exception".
#include <gtest/gtest.h>

#include <filesystem>
#include <latch>
#include <thread>

#include "core/clock.h"
#include "core/random.h"
#include "events/recorder.h"
#include "http/http_client.h"
#include "lifecycle/lifecycle.h"
#include "store/sealer.h"
#include "store/store.h"

namespace tether::lifecycle {
namespace {

TEST(LifecycleReloadTest, SettingsChangedWhileTheKeeperStartsNeverLoseOrKillTheKeeper) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tether-lc-reload-" + core::newId().substr(0, 12));
  std::filesystem::create_directories(dir);
  {
    core::ManualClock clock;
    store::SqliteOptions sq;
    sq.path = (dir / "tether.db").string();
    store::StoreOptions so;
    so.backend = sq;
    so.sealer = std::shared_ptr<const store::Sealer>(store::makePlaintextSealer().release());
    so.clock = &clock;
    auto opened = store::openStore(std::move(so));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    auto store = std::move(opened).value();
    auto http = http::makeHttpClient();
    events::Recorder recorder(*store, clock, nullptr);

    for (int round = 0; round < 200; ++round) {
      LifecycleOptions o;
      o.owner = "reload-test";
      Lifecycle lifecycle({}, *store, *http, recorder, clock, nullptr, o);
      std::latch go(2);
      std::thread bootstrap([&] {
        go.arrive_and_wait();
        lifecycle.start(true);
      });
      std::thread reload([&] {
        go.arrive_and_wait();
        Settings changed;
        changed.keeper_interval = std::chrono::minutes(7);
        lifecycle.setSettings(changed);
      });
      bootstrap.join();
      reload.join();
      // Whatever the order, exactly one keeper runs, on the new settings.
      EXPECT_TRUE(lifecycle.keeperRunning()) << "round " << round;
      EXPECT_EQ(lifecycle.keeper().settings().keeper_interval, std::chrono::minutes(7))
          << "round " << round;
      lifecycle.stop();
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tether::lifecycle
