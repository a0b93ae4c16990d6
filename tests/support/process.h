#pragma once
// Runs real binaries from tests: fork/exec with captured stdout and stderr, bounded waits.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tether::testing {

/// Directory of the build tree (set by ctest), e.g. to find build/tether.
inline std::string binaryDir() {
  const char* d = std::getenv("TETHER_BINARY_DIR");
  return d ? d : ".";
}
inline std::string sourceDir() {
  const char* d = std::getenv("TETHER_SOURCE_DIR");
  return d ? d : ".";
}

/// A child process with its stdout and stderr on pipes.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {}) {
    int out[2], err[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::close(out[0]);
      ::close(err[0]);
      for (const auto& e : extra_env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
    ::fcntl(out_, F_SETFL, O_NONBLOCK);
    ::fcntl(err_, F_SETFL, O_NONBLOCK);
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (discarder_.joinable()) discarder_.join();  // the pipes reached EOF with the child
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) { ::kill(pid_, sig); }

  /// Reads output until stderr contains `needle` or the deadline passes.
  bool waitForStderr(const std::string& needle, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (stderr_.find(needle) == std::string::npos) {
      if (!pump(end)) return stderr_.find(needle) != std::string::npos;
    }
    return true;
  }

  /// Reads output until stdout contains `needle` or the deadline passes.
  bool waitForStdout(const std::string& needle, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (stdout_.find(needle) == std::string::npos) {
      if (!pump(end)) return stdout_.find(needle) != std::string::npos;
    }
    return true;
  }

  /// Waits for exit; returns the exit code, 128+signal when killed, -1 on timeout.
  int wait(std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        drain();
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return -1;
      }
      if (std::chrono::steady_clock::now() >= end) return -1;
      pump(std::min(end, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
    }
  }

  /// From now on reads and drops everything the child writes (on a thread of its own, until
  /// the child ends), so that a child logging one line per request never blocks on a full
  /// pipe while the test is busy elsewhere. out(), err() and the waits must not be used
  /// after this call.
  void discardOutput() {
    discarder_ = std::thread([out = out_, err = err_] {
      pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
      char buf[65536];
      int open = 2;
      while (open > 0 && ::poll(fds, 2, -1) > 0) {
        for (auto& f : fds) {
          if (f.fd < 0 || f.revents == 0) continue;
          const ssize_t n = ::read(f.fd, buf, sizeof buf);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            f.fd = -1;  // poll ignores negative descriptors
            --open;
          }
        }
      }
    });
  }

  const std::string& out() const { return stdout_; }
  const std::string& err() const { return stderr_; }

 private:
  // Reads whatever is available until `end`; false when nothing more can come in time.
  bool pump(std::chrono::steady_clock::time_point end) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(left.count())) <= 0) return false;
    bool any = false;
    any |= readInto(out_, stdout_);
    any |= readInto(err_, stderr_);
    return any || (fds[0].revents | fds[1].revents) != 0;
  }
  void drain() {
    readInto(out_, stdout_);
    readInto(err_, stderr_);
  }
  static bool readInto(int fd, std::string& to) {
    bool any = false;
    char buf[8192];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      to.append(buf, static_cast<size_t>(n));
      any = true;
    }
    return any;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  bool exited_ = false;
  std::string stdout_;
  std::string stderr_;
  std::thread discarder_;
};

/// Runs a command to completion (bounded) and returns {exit code, stdout, stderr}.
struct RunResult {
  int code;
  std::string out;
  std::string err;
};
inline RunResult run(const std::vector<std::string>& argv,
                     const std::vector<std::string>& extra_env = {},
                     std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
  Child c(argv, extra_env);
  const int code = c.wait(deadline);
  return {code, c.out(), c.err()};
}

/// The loopback port a `tether serve` child logged in its "listening" line (JSON logs on
/// stderr); 0 when it did not log one within 20 s.
inline uint16_t waitListening(Child& c) {
  if (!c.waitForStderr("\"msg\":\"listening\"", std::chrono::seconds(20))) return 0;
  std::smatch m;
  static const std::regex re(R"re("address":"127\.0\.0\.1:(\d+)")re");
  const std::string err = c.err();
  if (!std::regex_search(err, m, re)) return 0;
  return static_cast<uint16_t>(std::stoi(m[1]));
}

}  // namespace tether::testing
