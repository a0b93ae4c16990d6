#pragma once
/// A throwaway PostgreSQL database of a test's own on the cluster that
/// scripts/with-postgres.sh starts (other tests use the same cluster at the same time):
/// multi-process tests point their `tether serve` replicas at its DSN.

#include <string>
#include <string_view>

#include "core/result.h"

namespace tether::testing {

struct PgDatabase {
  std::string name;  // "<prefix>_<10 random characters>"
  std::string dsn;   // $TETHER_TEST_PG_DSN with this database as dbname
};

/// Creates an empty database named after `prefix` (letters, digits, '_') on the cluster of
/// $TETHER_TEST_PG_DSN. It is left to the cluster's teardown. Errors: TETHER_TEST_PG_DSN not
/// set (PostgreSQL tests never skip), or PostgreSQL's own message.
core::Result<PgDatabase> createPgDatabase(std::string_view prefix);

}  // namespace tether::testing
