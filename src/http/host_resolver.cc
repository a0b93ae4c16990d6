#include "http/host_resolver.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace tether::http {
namespace {

using core::Errc;
using core::Error;

constexpr int kMaxOutstandingLookups = 8;
std::atomic<int> g_outstanding{0};

// One lookup's state, shared by the waiting caller and the helper thread: whichever leaves
// last frees it, so a caller that gave up never waits for getaddrinfo.
struct Lookup {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;
  std::vector<IpAddress> addresses;
};

void runLookup(const std::string& host, Lookup& lookup) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  std::vector<IpAddress> out;
  for (addrinfo* ai = list; rc == 0 && ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(sockaddr_in)) {
      const auto* sa = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      out.push_back(IpAddress::v4(ntohl(sa->sin_addr.s_addr)));
    } else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(sockaddr_in6)) {
      const auto* sa = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      std::array<uint8_t, 16> b{};
      std::memcpy(b.data(), &sa->sin6_addr, 16);
      out.push_back(IpAddress::v6(b));
    }
  }
  if (list != nullptr) ::freeaddrinfo(list);
  // Duplicates (one per socket type or protocol) are dropped, first occurrence kept.
  std::vector<IpAddress> unique;
  for (const auto& a : out) {
    if (std::find(unique.begin(), unique.end(), a) == unique.end()) unique.push_back(a);
  }
  std::lock_guard lock(lookup.mu);
  lookup.rc = rc;
  lookup.addresses = std::move(unique);
  lookup.done = true;
  lookup.cv.notify_all();
}

}  // namespace

core::Result<std::vector<IpAddress>> resolveWithSystem(const std::string& host,
                                                       std::chrono::milliseconds timeout) {
  if (g_outstanding.fetch_add(1) >= kMaxOutstandingLookups) {
    g_outstanding.fetch_sub(1);
    return Error(Errc::kUnavailable, "too many name lookups in progress for " + host);
  }
  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread([host, lookup] {
      runLookup(host, *lookup);
      g_outstanding.fetch_sub(1);
    }).detach();
  } catch (const std::system_error&) {
    g_outstanding.fetch_sub(1);
    return Error(Errc::kUnavailable, "cannot start a name lookup for " + host);
  }
  std::unique_lock lock(lookup->mu);
  if (!lookup->cv.wait_for(lock, timeout, [&] { return lookup->done; })) {
    return Error(Errc::kUnavailable, "no answer resolving " + host + " within " +
                                         std::to_string(timeout.count()) + " ms");
  }
  if (lookup->rc == EAI_NONAME || lookup->rc == EAI_NODATA ||
      (lookup->rc == 0 && lookup->addresses.empty())) {
    return Error(Errc::kNotFound, "the host name " + host + " does not resolve");
  }
  if (lookup->rc != 0) {
    return Error(Errc::kUnavailable,
                 "resolving " + host + " failed: " + std::string(::gai_strerror(lookup->rc)));
  }
  return std::move(lookup->addresses);
}

}  // namespace tether::http
