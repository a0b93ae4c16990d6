// store_migrate_helper <sqlite PATH [BUSY_MS] | postgres DSN>: waits for EOF on stdin (the
// test's start barrier), opens the store (which migrates), and exits with 10 + the number of
// migrations it applied, or 1 on failure (message on stderr).

#include <unistd.h>

#include <cstdio>
#include <string>

#include "store/store.h"

int main(int argc, char** argv) {
  using namespace tether::store;
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s sqlite PATH [BUSY_MS] | postgres DSN\n", argv[0]);
    return 1;
  }
  char byte = 0;
  while (::read(STDIN_FILENO, &byte, 1) > 0) {
  }
  StoreOptions options;
  const std::string kind = argv[1];
  if (kind == "sqlite") {
    SqliteOptions s;
    s.path = argv[2];
    s.busy_timeout = Duration(argc == 4 ? std::stoi(argv[3]) : 20000);
    options.backend = s;
  } else {
    PostgresOptions p;
    p.dsn = argv[2];
    p.connect_attempts = 1;
    p.pool_size = 2;
    p.listen = false;
    options.backend = p;
  }
  std::string raw(32, '\0');
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>('k' + i);
  auto sealer = makeAesGcmSealer({SealingKey::fromBytes(raw).value()});
  if (!sealer.ok()) return 1;
  options.sealer = std::shared_ptr<const Sealer>(std::move(sealer).value());
  auto store = openStore(std::move(options));
  if (!store.ok()) {
    std::fprintf(stderr, "open failed: %s\n", store.error().message.c_str());
    return 1;
  }
  return 10 + (*store)->migrationsAppliedAtOpen();
}
