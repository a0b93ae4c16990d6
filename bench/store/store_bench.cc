// Store benchmarks. Targets: seal/open < 5 us per value; bulk health over 10,000
// connections < 50 ms; due-set query over 100,000 connections < 50 ms — on SQLite and on
// PostgreSQL. PostgreSQL benchmarks use $TETHER_TEST_PG_DSN (run under
// scripts/with-postgres.sh); each creates and drops its own database.
//
// Rows are seeded with SQL (generate_series / a recursive CTE) for speed; the measured
// calls go through the public Store API.

#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "bench_database.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "store/store.h"

namespace tether::store {
namespace {

using bench::BenchDatabase;
using bench::benchSealer;
using bench::kNow;

void BM_Seal(benchmark::State& state) {
  const auto sealer = benchSealer();
  const std::string value(static_cast<size_t>(state.range(0)), 'x');
  const std::string aad = sealingAad("tokens", {"mcp", "demo"}, "access_token");
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    benchmark::DoNotOptimize(sealer->seal(value, aad));
  }
}
BENCHMARK(BM_Seal)->Arg(64)->Arg(1024);

void BM_Open(benchmark::State& state) {
  const auto sealer = benchSealer();
  const std::string value(static_cast<size_t>(state.range(0)), 'x');
  const std::string aad = sealingAad("tokens", {"mcp", "demo"}, "access_token");
  const std::string sealed = sealer->seal(value, aad).value();
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    benchmark::DoNotOptimize(sealer->open(sealed, aad));
  }
}
BENCHMARK(BM_Open)->Arg(64)->Arg(1024);

void quietLogs() { core::log::init(core::log::Format::kText, core::LogLevel::kWarn); }

void bulkHealth(benchmark::State& state, std::unique_ptr<BenchDatabase> db) {
  if (db == nullptr || db->store() == nullptr) {
    state.SkipWithError(db ? db->error().c_str() : "setup failed");
    return;
  }
  size_t rows = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    auto health = db->store()->bulkHealth();
    if (!health.ok()) {
      state.SkipWithError(health.error().message.c_str());
      return;
    }
    rows = health->size();
  }
  state.counters["connections"] = static_cast<double>(rows);
}

void BM_BulkHealth_SQLite(benchmark::State& state) {
  quietLogs();
  bulkHealth(state, BenchDatabase::sqlite(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_BulkHealth_SQLite)->Arg(10'000)->Unit(benchmark::kMillisecond);

void BM_BulkHealth_PostgreSQL(benchmark::State& state) {
  quietLogs();
  bulkHealth(state, BenchDatabase::postgres(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_BulkHealth_PostgreSQL)->Arg(10'000)->Unit(benchmark::kMillisecond);

void dueSet(benchmark::State& state, std::unique_ptr<BenchDatabase> db) {
  if (db == nullptr || db->store() == nullptr) {
    state.SkipWithError(db ? db->error().c_str() : "setup failed");
    return;
  }
  const int limit = static_cast<int>(state.range(1));
  size_t rows = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
    auto due = db->store()->dueConnections(kNow, limit);
    if (!due.ok()) {
      state.SkipWithError(due.error().message.c_str());
      return;
    }
    rows = due->size();
  }
  state.counters["returned"] = static_cast<double>(rows);
}

void BM_DueSet_SQLite(benchmark::State& state) {
  quietLogs();
  dueSet(state, BenchDatabase::sqlite(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_DueSet_SQLite)
    ->Args({100'000, 100})
    ->Args({100'000, 1000})
    ->Unit(benchmark::kMillisecond);

void BM_DueSet_PostgreSQL(benchmark::State& state) {
  quietLogs();
  dueSet(state, BenchDatabase::postgres(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_DueSet_PostgreSQL)
    ->Args({100'000, 100})
    ->Args({100'000, 1000})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tether::store
