# Sourced by scripts/bench-proxy.sh and scripts/proxy-cost.sh: the peers Tether's proxy is
# measured against, written the same way for both.

# The fixed JSON-RPC answer the upstream returns, and the credential every proxy injects.
PEER_ANSWER='{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo","description":"Returns its text","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}}]}}'
PEER_TOKEN="bench-upstream-token-0123456789"

# write_post_lua FILE: the wrk script every contender gets (POST tools/list, MCP headers).
write_post_lua() {
  cat > "$1" <<'LUA'
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
LUA
}

# write_tether_conf FILE PORT UPSTREAM_PORT IO_THREADS DB: Tether proxying /mcp/bench to the
# upstream with the same bearer credential the nginx proxy injects.
write_tether_conf() {
  cat > "$1" <<YAML
listen: 127.0.0.1:$2
log: { level: error }
server: { io_threads: $4 }
storage: { driver: sqlite, path: $5, allow_plaintext: true }
connections:
  - kind: mcp
    name: bench
    url: http://127.0.0.1:$3/mcp
    auth: { mode: bearer, token: "$PEER_TOKEN" }
YAML
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# write_upstream_conf DIR PORT: nginx answering POST /mcp with PEER_ANSWER (1 worker: it is
# never the bottleneck of a proxied run, and the direct run shows its ceiling).
write_upstream_conf() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_buffer_size 64k;
  server {
    listen 127.0.0.1:$port;
    location = /mcp { default_type application/json; return 200 '$PEER_ANSWER'; }
  }
}
NGINX
}

# write_proxy_conf DIR PORT UPSTREAM_PORT WORKERS: nginx as the reverse proxy to compare
# with (upstream keep-alive, Authorization set, the caller's Cookie dropped), at /mcp/bench.
write_proxy_conf() {
  local dir=$1 port=$2 up_port=$3 workers=$4
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<NGINX
worker_processes $workers;
daemon off;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  upstream mcp_upstream { server 127.0.0.1:$up_port; keepalive 64; }
  server {
    listen 127.0.0.1:$port;
    location = /mcp/bench {
      proxy_pass http://mcp_upstream/mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer $PEER_TOKEN";
      proxy_set_header Cookie "";
      proxy_buffering on;
    }
  }
}
NGINX
}
