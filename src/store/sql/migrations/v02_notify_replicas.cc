// Every committed change to a token row NOTIFYs the other replicas (the listener drops
// their cached copy). SQLite announces in-process instead, so its migration is empty.

#include "store/sql/migrations/versions.h"

namespace tether::store::sql::migrations {
namespace {

constexpr std::string_view kSqlite = "SELECT 1;";

constexpr std::string_view kPostgres = R"sql(
CREATE FUNCTION tether_token_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('tether_token_changed', json_build_object(
      'kind', OLD.kind, 'name', OLD.name, 'version', OLD.version, 'deleted', true)::text);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('tether_token_changed', json_build_object(
    'kind', NEW.kind, 'name', NEW.name, 'version', NEW.version, 'deleted', false)::text);
  RETURN NEW;
END
$fn$;
CREATE TRIGGER tokens_changed AFTER INSERT OR UPDATE OR DELETE ON tokens
  FOR EACH ROW EXECUTE FUNCTION tether_token_changed();
)sql";

}  // namespace

constinit const Migration kV02NotifyReplicas{2, "notify replicas of changes", kSqlite, kPostgres};

}  // namespace tether::store::sql::migrations
