#include "gateway/upstream_connect.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>

namespace tether::gateway::upstream {

namespace {

Connected failed(Conn*& in_progress, Deadline& deadline, UpstreamFailure failure,
                 std::string message) {
  in_progress = nullptr;
  deadline.clear();
  return Connected{nullptr, failure, std::move(message)};
}

}  // namespace

Awaitable<Connected> connectUpstream(asio::io_context& ctx, PoolService& pool,
                                     const UpstreamOrigin& o, const UpstreamLimits& limits,
                                     Deadline& deadline, Conn*& in_progress,
                                     const bool& cancelled) {
  std::shared_ptr<ssl::context> ssl_ctx;
  if (o.tls) {
    std::string error;
    ssl_ctx = pool.sslContext(o.ca_bundle, error);
    if (!ssl_ctx) co_return failed(in_progress, deadline, UpstreamFailure::kTls, error);
  }
  auto conn = std::make_unique<Conn>(ctx.get_executor(), std::move(ssl_ctx));
  in_progress = conn.get();
  auto& lowest = conn->lowest();
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  if (!ec) {
    deadline.set(lowest, limits.connect_timeout);
    auto [cec] = co_await lowest.async_connect(tcp::endpoint(address, o.port), kNoThrow);
    ec = interrupted(cec, deadline, cancelled);
  } else {
    // The resolver has no deadline of its own: a timer cancels it.
    auto resolver = std::make_shared<tcp::resolver>(ctx);
    asio::steady_timer timer(ctx, limits.connect_timeout);
    timer.async_wait([weak = std::weak_ptr<tcp::resolver>(resolver)](boost::system::error_code e) {
      if (auto r = weak.lock(); r && !e) r->cancel();
    });
    auto [rec, results] =
        co_await resolver->async_resolve(o.host, std::to_string(o.port), kNoThrow);
    timer.cancel();
    if (rec) {
      co_return failed(in_progress, deadline,
                       rec == asio::error::operation_aborted && !cancelled
                           ? UpstreamFailure::kTimeout
                           : UpstreamFailure::kConnect,
                       "cannot resolve " + o.host + ": " + rec.message());
    }
    deadline.set(lowest, limits.connect_timeout);
    auto [cec, endpoint] = co_await asio::async_connect(lowest, results, kNoThrow);
    ec = interrupted(cec, deadline, cancelled);
  }
  if (ec) {
    co_return failed(in_progress, deadline,
                     ec == beast::error::timeout ? UpstreamFailure::kTimeout
                     : cancelled                 ? UpstreamFailure::kCancelled
                                                 : UpstreamFailure::kConnect,
                     "cannot connect to " + o.host_header + ": " + ec.message());
  }
  boost::system::error_code ignored;
  lowest.set_option(tcp::no_delay(true), ignored);
  lowest.non_blocking(true, ignored);  // requests are written synchronously first
  if (conn->tls) {
    SSL* ssl = conn->tls->native_handle();
    if (!o.host_is_ip) SSL_set_tlsext_host_name(ssl, o.host.c_str());
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = o.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, o.host.c_str())
                                 : X509_VERIFY_PARAM_set1_host(param, o.host.c_str(), 0);
    if (set != 1) {
      co_return failed(in_progress, deadline, UpstreamFailure::kTls,
                       "cannot set up host name verification for " + o.host);
    }
    deadline.set(lowest, limits.connect_timeout);
    auto [hec0] = co_await conn->tls->async_handshake(ssl::stream_base::client, kNoThrow);
    const auto hec = interrupted(hec0, deadline, cancelled);
    if (hec) {
      std::string why = hec.message();
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
      co_return failed(in_progress, deadline,
                       hec == beast::error::timeout ? UpstreamFailure::kTimeout
                       : cancelled                  ? UpstreamFailure::kCancelled
                                                    : UpstreamFailure::kTls,
                       "TLS handshake with " + o.host_header + " failed: " + why);
    }
  }
  deadline.clear();
  in_progress = nullptr;
  co_return Connected{std::move(conn), UpstreamFailure::kNone, {}};
}

}  // namespace tether::gateway::upstream
