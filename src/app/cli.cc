#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <optional>
#include <string_view>

#include "app/app.h"
#include "app/login.h"
#include "app/operator_cli.h"
#include "app/reload.h"
#include "core/log.h"
#include "core/redact.h"
#include "store/from_config.h"

#ifndef TETHER_VERSION
#define TETHER_VERSION "0.0.0"
#endif

namespace tether::app {
namespace {

// Blocks SIGINT/SIGTERM (stop) and SIGHUP (reload) in every thread (call before starting
// any), so that `waitForSignal` receives them synchronously instead of an async handler.
sigset_t blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Waits for SIGINT/SIGTERM/SIGHUP, or until `give_up` says the process cannot go on.
int waitForSignal(const sigset_t& set, const std::function<bool()>& give_up) {
  const timespec tick{0, 200'000'000};
  for (;;) {
    const int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig > 0) return sig;
    if (give_up()) return 0;
  }
}

// Loads and validates the config; prints the error (already secret-free) on failure.
std::optional<config::LoadedConfig> load(const std::string& path) {
  auto loaded = config::loadConfigFile(path, config::processEnv());
  if (!loaded.ok()) {
    std::cerr << "tether: invalid configuration\n" << loaded.error().message << "\n";
    return std::nullopt;
  }
  for (const auto& secret : config::secretValues(loaded->config)) core::registerSecret(secret);
  return std::move(loaded).value();
}

// SIGHUP: reads the config file again. Invalid: every problem logged, nothing changes.
// Valid: the TLS certificate, log.level (unless --log-level overrides it), log.access and
// the live settings (app/reload.h: connections, client keys, origins, keeper and events
// timings) are applied; every other change is named as needing a restart. `running` is the
// configuration the process runs with (updated with what was applied).
void reload(const std::string& path, config::Config& running, Process& process,
            core::log::Format format, bool level_overridden) {
  core::log::info("SIGHUP: reloading the configuration", {{"config", path}});
  auto loaded = config::loadConfigFile(path, config::processEnv());
  if (!loaded.ok()) {
    const std::string& message = loaded.error().message;
    size_t start = 0;
    while (start < message.size()) {
      size_t end = message.find('\n', start);
      if (end == std::string::npos) end = message.size();
      core::log::error("configuration not reloaded: the file is invalid; running unchanged",
                       {{"problem", std::string_view(message).substr(start, end - start)}});
      start = end + 1;
    }
    return;
  }
  auto& next = loaded->config;
  for (const auto& secret : config::secretValues(next)) core::registerSecret(secret);
  for (const auto& w : loaded->warnings) core::log::warn(w);
  std::vector<std::string> applied;
  if (next.server.tls && running.server.tls) {
    if (auto st = process.reloadTls(*next.server.tls); !st.ok()) {
      core::log::error("TLS certificate not reloaded; the previous one stays in use",
                       {{"error", st.error().message}});
    } else {
      running.server.tls = next.server.tls;
      applied.emplace_back("server.tls");
    }
  }
  if (next.log.level != running.log.level) {
    if (level_overridden) {
      core::log::warn("log.level changed in the file but --log-level overrides it; not applied");
    } else {
      core::log::init(format, next.log.level);
      running.log.level = next.log.level;
      applied.emplace_back("log.level");
    }
  }
  if (next.log.access != running.log.access) {
    process.setAccessLog(next.log.access);
    running.log.access = next.log.access;
    applied.emplace_back("log.access");
  }
  auto declared = [&process](std::vector<config::ConnectionConfig> list) {
    return process.applyDeclaredConnections(std::move(list));
  };
  auto webhooks = [&process](std::vector<config::WebhookConfig> hooks) {
    return process.applyWebhooks(std::move(hooks));
  };
  for (auto& name : applyLiveSettings(running, next, process.connections(), declared, webhooks)) {
    applied.push_back(std::move(name));
  }
  const auto restart = settingsNeedingRestart(running, next);
  if (!restart.empty()) {
    std::string names;
    for (const auto& n : restart) names += (names.empty() ? "" : ", ") + n;
    core::log::warn("changed settings need a restart to take effect; they were not applied",
                    {{"settings", names}});
  }
  std::string done;
  for (const auto& n : applied) done += (done.empty() ? "" : ", ") + n;
  core::log::info("configuration reloaded", {{"applied", done}});
}

int serve(const std::string& path, const std::string& log_format, const std::string& log_level,
          const core::Clock& clock) {
  const sigset_t signals = blockStopSignals();
  auto loaded = load(path);
  if (!loaded) return 2;
  auto& cfg = loaded->config;
  std::optional<core::log::Format> requested;
  if (log_format == "text") requested = core::log::Format::kText;
  if (log_format == "json") requested = core::log::Format::kJson;
  const auto format =
      core::log::chooseFormat(requested, cfg.log.format, core::log::stderrIsTerminal());
  auto level = cfg.log.level;
  if (!log_level.empty()) level = core::log::parseLevel(log_level).value_or(level);
  core::log::init(format, level);
  for (const auto& w : loaded->warnings) core::log::warn(w);
  core::log::info("starting tether", {{"version", versionString()}, {"config", path}});

  config::Config running = cfg;  // as loaded, for SIGHUP's comparison
  Process process(std::move(cfg), clock);
  process.setConfigFile(path);
  // The admin API's reload is SIGHUP's, run by this loop on this thread.
  process.setReloadHandler([]() -> core::Result<std::string> {
    ::kill(::getpid(), SIGHUP);
    return std::string("reload requested: the outcome is in Tether's log");
  });
  auto st = process.start();
  if (!st.ok()) {
    core::log::error("cannot start", {{"error", st.error().message}});
    return 1;
  }
  int sig = 0;
  for (;;) {
    sig = waitForSignal(signals, [&] { return process.fatalError().has_value(); });
    if (sig != SIGHUP) break;
    reload(path, running, process, format, !log_level.empty());
  }
  if (sig == 0) {
    const auto fatal = process.fatalError();
    core::log::error("cannot run", {{"error", fatal->message}});
    std::cerr << "tether: " << fatal->message << "\n";
    process.stop();
    return 1;
  }
  core::log::info("stopping: draining in-flight requests",
                  {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  process.stop();
  core::log::info("stopped");
  return 0;
}

// `tether keys rotate`: re-seal every stored secret under encryption.key; the keys in
// encryption.previous_keys open the old values.
int keysRotate(const std::string& path, const core::Clock& clock) {
  auto loaded = load(path);
  if (!loaded) return 2;
  core::log::init(core::log::Format::kText, core::LogLevel::kWarn);
  const auto& cfg = loaded->config;
  if (!cfg.encryption.hasKey()) {
    std::cerr << "tether: keys rotate needs encryption.key (the new key) and "
                 "encryption.previous_keys (the old ones)\n";
    return 2;
  }
  auto sealer = store::sealerFromConfig(cfg.encryption, cfg.storage);
  if (!sealer.ok()) {
    std::cerr << "tether: " << sealer.error().message << "\n";
    return 2;
  }
  auto store =
      store::openStore(store::optionsFromConfig(cfg.storage, std::move(sealer).value(), &clock, 3));
  if (!store.ok()) {
    std::cerr << "tether: cannot open the store: " << store.error().message << "\n";
    return 1;
  }
  auto report = store.value()->rotateKeys();
  if (!report.ok()) {
    std::cerr << "tether: key rotation failed, nothing was changed: " << report.error().message
              << "\n";
    return 1;
  }
  std::cout << "re-sealed " << report->values_resealed << " values under the new key ("
            << report->values_current << " already current) in " << store.value()->describe()
            << "\n";
  return 0;
}

int configCheck(const std::string& path) {
  auto loaded = load(path);
  if (!loaded) return 2;
  for (const auto& w : loaded->warnings) std::cerr << "warning: " << w << "\n";
  std::cout << config::renderEffectiveConfig(loaded->config);
  std::cerr << path << ": configuration is valid\n";
  return 0;
}

// The command words of `app` (its subcommands' names), for messages.
std::string commandList(const CLI::App& app) {
  std::string out;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (!out.empty()) out += ", ";
    out += sub->get_name();
  }
  return out;
}

// Why the command line names no command tether knows, or nullopt when its command words
// are fine (CLI11 then judges the rest). Options are skipped over, not interpreted.
std::optional<std::string> commandProblem(const CLI::App& root, int argc, char** argv) {
  const CLI::App* app = &root;
  std::string path = "tether";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with('-')) return std::nullopt;  // an option (--help, --version, ...)
    const auto subs = app->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty()) return std::nullopt;  // a command's own arguments
    const CLI::App* next = nullptr;
    for (const auto* sub : subs) {
      if (sub->check_name(std::string(arg))) next = sub;
    }
    if (!next) {
      return "unknown command '" + std::string(arg) + "' for " + path +
             " (commands: " + commandList(*app) + "; see " + path + " --help)";
    }
    app = next;
    path += " " + next->get_name();
  }
  if (app->get_subcommands([](const CLI::App*) { return true; }).empty()) return std::nullopt;
  const std::string subject =
      app == &root ? "a command is required" : "'" + path.substr(7) + "' needs a command";
  return subject + " (" + commandList(*app) + "; see " + path + " --help)";
}

// The command the command line names ("tether webhooks"): its command words up to the
// first option or argument, for the help hint of a usage error CLI11 found.
std::pair<const CLI::App*, std::string> namedCommand(const CLI::App& root, int argc, char** argv) {
  const CLI::App* app = &root;
  std::string path = "tether";
  for (int i = 1; i < argc && !std::string_view(argv[i]).starts_with('-'); ++i) {
    const CLI::App* next = nullptr;
    for (const auto* sub : app->get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->check_name(argv[i])) next = sub;
    }
    if (!next) break;
    app = next;
    path += " " + next->get_name();
  }
  return {app, path};
}

// CLI11's message for a parse error, with the help hint ("A subcommand is required" said
// the way commandProblem says it).
std::string parseProblem(const CLI::ParseError& e, const CLI::App& root, int argc, char** argv) {
  const auto [app, path] = namedCommand(root, argc, argv);
  std::string reason = e.what();
  if (reason.find("subcommand is required") != std::string::npos && app != &root) {
    reason = "'" + path.substr(7) + "' needs a command (" + commandList(*app) + "; ";
  } else {
    reason += " (";
  }
  return reason + "see " + path + " --help)";
}

// A usage error as one line on stderr; exit status 2 (as for an invalid configuration).
int usageError(std::string reason) {
  for (auto& c : reason) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::cerr << "tether: " << reason << "\n";
  return 2;
}

}  // namespace

const char* versionString() { return TETHER_VERSION; }

int runCli(int argc, char** argv, const core::Clock& clock) {
  CLI::App cli{
      "Tether: an OAuth-keeping gateway between AI agents (MCP clients) and the remote MCP\n"
      "servers and HTTP APIs they call. It holds every connection's credentials, keeps them\n"
      "alive, injects them into each proxied call, and shows which connection needs a human.",
      "tether"};
  cli.set_version_flag("--version", std::string("tether ") + versionString());
  cli.require_subcommand(1);

  std::string config_path;
  std::string log_format;
  std::string log_level;
  auto* serve_cmd = cli.add_subcommand("serve", "Run the gateway");
  serve_cmd->add_option("-c,--config", config_path, "Configuration file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--log-format", log_format, "Override log.format: json or text")
      ->check(CLI::IsMember({"json", "text"}));
  serve_cmd->add_option("--log-level", log_level, "Override log.level: debug, info, warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  auto* config_cmd = cli.add_subcommand("config", "Configuration tools");
  config_cmd->require_subcommand(1);
  std::string check_path;
  auto* check_cmd = config_cmd->add_subcommand(
      "check",
      "Validate a configuration file and print the effective configuration (secrets masked)");
  check_cmd->add_option("file", check_path, "Configuration file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);

  auto* keys_cmd = cli.add_subcommand("keys", "Encryption key tools");
  keys_cmd->require_subcommand(1);
  std::string rotate_path;
  auto* rotate_cmd = keys_cmd->add_subcommand(
      "rotate",
      "Re-seal every stored secret under encryption.key; encryption.previous_keys must hold "
      "the key(s) they are sealed with now. Stop Tether (or all replicas) first.");
  rotate_cmd->add_option("-c,--config", rotate_path, "Configuration file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);

  LoginOptions login_opts;
  int login_timeout_s = 0;
  auto* login_cmd = cli.add_subcommand(
      "login",
      "Connect an OAuth connection from the terminal: starts its connect flow on a running "
      "Tether (admin key in TETHER_ADMIN_KEY), prints the sign-in URL, opens a browser and "
      "waits until the sign-in completes");
  login_cmd->add_option("connection", login_opts.connection, "The connection, as kind/name")
      ->required();
  login_opts.url = "http://127.0.0.1:8080";
  if (const char* u = std::getenv("TETHER_URL"); u && *u) login_opts.url = u;
  login_cmd->add_option("--url", login_opts.url,
                        "Tether's base URL (default $TETHER_URL or "
                        "http://127.0.0.1:8080)");
  login_cmd->add_flag("--force", login_opts.force_browser,
                      "Open the browser even if it was opened for this connection in the "
                      "last 5 minutes");
  bool no_browser = false;
  login_cmd->add_flag("--no-browser", no_browser, "Only print the URL");
  login_cmd->add_option("--timeout", login_timeout_s,
                        "Seconds to wait for the sign-in (default: until the link expires)");

  OperatorCommands operator_commands(cli, clock);  // connections, status, events, ...

  // Unknown or missing commands, unknown options, a missing file: one line and exit 2
  // (CLI11's own exit codes, 105-109, mean nothing to a shell script).
  if (auto problem = commandProblem(cli, argc, argv)) return usageError(*problem);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);  // --help, --version
    return usageError(parseProblem(e, cli, argc, argv));
  }
  if (auto code = operator_commands.run()) return *code;
  if (serve_cmd->parsed()) return serve(config_path, log_format, log_level, clock);
  if (check_cmd->parsed()) return configCheck(check_path);
  if (rotate_cmd->parsed()) return keysRotate(rotate_path, clock);
  if (login_cmd->parsed()) {
    while (!login_opts.url.empty() && login_opts.url.back() == '/') login_opts.url.pop_back();
    if (const char* k = std::getenv("TETHER_ADMIN_KEY")) login_opts.admin_key = k;
    login_opts.open_browser = !no_browser;
    login_opts.timeout = std::chrono::seconds(login_timeout_s);
    login_opts.state_file = defaultLoginStateFile();
    return login(login_opts);
  }
  return 2;
}

}  // namespace tether::app
