#include "support/pg_database.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>

#include "core/random.h"

namespace tether::testing {

core::Result<PgDatabase> createPgDatabase(std::string_view prefix) {
  const char* base = std::getenv("TETHER_TEST_PG_DSN");
  if (base == nullptr || *base == '\0') {
    return core::Error(core::Errc::kConfig,
                       "TETHER_TEST_PG_DSN is not set: run the tests through "
                       "scripts/with-postgres.sh (make test does)");
  }
  PgDatabase db;
  db.name = std::string(prefix) + "_" + core::newId().substr(0, 10);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(base), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return core::Error(core::Errc::kStore, std::string("connecting to TETHER_TEST_PG_DSN: ") +
                                               PQerrorMessage(conn.get()));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexec(conn.get(), ("CREATE DATABASE " + db.name).c_str()), &PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    return core::Error(core::Errc::kStore,
                       "CREATE DATABASE " + db.name + ": " + PQerrorMessage(conn.get()));
  }
  db.dsn = std::string(base) + " dbname=" + db.name;
  return db;
}

}  // namespace tether::testing
