#pragma once
/// A fixed pool of threads for blocking work (store calls, curl transfers, refreshes), so
/// that none of it runs on a server I/O thread. Thread-safe. Destruction drains the queue:
/// every task posted before it runs.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tether::core {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads, std::string name = "pool");
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Queues `task`. After shutdown() began, the task runs on the calling thread.
  void post(std::function<void()> task);

  /// Stops accepting work, runs what is queued, joins the threads. Idempotent.
  void shutdown();

  size_t size() const { return threads_.size(); }
  /// Tasks queued and not yet started (metrics, tests).
  size_t queued() const;

 private:
  void run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tether::core
