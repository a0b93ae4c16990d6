"""The processes and files `bench/proxy-matrix.py` runs: the upstream (nginx serving files),
the idle-stream upstream, the mock IdP, `tether serve`, nginx and HAProxy as reverse proxies.

Every proxy gets the same routes and injects the same kind of credential (a bearer token the
mock IdP issued through the client-credentials grant):

    /mcp/json  -> upstream POST /mcp   a fixed small JSON-RPC answer (also takes 1 MiB bodies)
    /mcp/sse   -> upstream POST /sse   100 SSE events of 200 bytes, text/event-stream
    /mcp/big   -> upstream POST /big   a 1 MiB JSON answer
    /mcp/idle  -> idle upstream GET    a standalone SSE stream that stays open and quiet
"""

import json
import os

SMALL_ANSWER = ('{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo","description":'
                '"Returns its text","inputSchema":{"type":"object","properties":{"text":'
                '{"type":"string"}},"required":["text"]}}]}}')
SSE_EVENTS = 100
SSE_EVENT_BYTES = 200
BIG_BYTES = 1 << 20

# Upstream path of each route, as the direct run calls it.
UPSTREAM_PATH = {"json": "/mcp", "sse": "/sse", "big": "/big"}


def sse_body():
    """SSE_EVENTS events of exactly SSE_EVENT_BYTES bytes each (JSON-RPC notifications)."""
    out = []
    for i in range(SSE_EVENTS):
        head = 'id: %d\nevent: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress",' \
               '"params":{"progress":%d,"pad":"' % (i, i)
        tail = '"}}\n\n'
        pad = SSE_EVENT_BYTES - len(head) - len(tail)
        out.append(head + "x" * pad + tail)
    return "".join(out)


def big_json(size):
    """A JSON-RPC result of exactly `size` bytes."""
    head = '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"'
    tail = '"}]}}'
    return head + "a" * (size - len(head) - len(tail)) + tail


def write_files(root):
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "sse"), "w") as f:
        f.write(sse_body())
    with open(os.path.join(root, "big"), "w") as f:
        f.write(big_json(BIG_BYTES))


def write_lua(path, body):
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write("wrk.body = %s\n" % lua_string(body))
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write('wrk.headers["Accept"] = "application/json, text/event-stream"\n')
        f.write('wrk.headers["MCP-Protocol-Version"] = "2025-11-25"\n')


def lua_string(s):
    if len(s) > 4096:  # the 1 MiB body: its run of "a" built in Lua
        i, j = s.index("a" * 16), s.rindex("a" * 16) + 16
        return '%s .. string.rep("a", %d) .. %s' % (json.dumps(s[:i]), j - i, json.dumps(s[j:]))
    return json.dumps(s)


def upstream_nginx_conf(d, port, workers):
    """nginx as the upstream: files for SSE and the 1 MiB answer. The static module refuses a
    POST with 405; `error_page 405 =200 $uri` serves the file instead (a common trick)."""
    return f"""worker_processes {workers};
daemon off;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
worker_rlimit_nofile 20000;
events {{ worker_connections 20000; }}
http {{
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_max_body_size 2m;
  client_body_buffer_size 2m;
  sendfile on;
  tcp_nopush on;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    root {d}/files;
    location = /mcp {{ default_type application/json; return 200 '{SMALL_ANSWER}'; }}
    location = /sse {{ default_type text/event-stream; error_page 405 =200 $uri; }}
    location = /big {{ default_type application/json; error_page 405 =200 $uri; }}
  }}
}}
"""


def proxy_nginx_conf(d, port, up_port, idle_port, workers, token):
    routes = ""
    for name, path in UPSTREAM_PATH.items():
        routes += f"""
    location = /mcp/{name} {{
      proxy_pass http://files{path};
      include {d}/common.conf;
    }}"""
    with open(os.path.join(d, "common.conf"), "w") as f:
        f.write(f"""proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Authorization "Bearer {token}";
proxy_set_header Cookie "";
proxy_buffering off;
proxy_read_timeout 600s;
""")
    return f"""worker_processes {workers};
daemon off;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
worker_rlimit_nofile 20000;
events {{ worker_connections 20000; }}
http {{
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_max_body_size 2m;
  client_body_buffer_size 2m;
  upstream files {{ server 127.0.0.1:{up_port}; keepalive 64; }}
  upstream idle {{ server 127.0.0.1:{idle_port}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;{routes}
    location = /mcp/idle {{
      proxy_pass http://idle/mcp;
      include {d}/common.conf;
    }}
  }}
}}
"""


def haproxy_conf(d, port, up_port, idle_port, threads, token, maxconn):
    rules = ""
    for name, path in UPSTREAM_PATH.items():
        rules += f"  http-request set-path {path} if {{ path /mcp/{name} }}\n"
    return f"""global
  nbthread {threads}
  maxconn {maxconn}
  log stderr format raw local0 err
defaults
  mode http
  timeout connect 5s
  timeout client 600s
  timeout server 600s
  timeout http-keep-alive 300s
  option http-keep-alive
  http-reuse always
frontend bench
  bind 127.0.0.1:{port}
  http-request set-header Authorization "Bearer {token}"
  http-request del-header Cookie
{rules}  use_backend idle if {{ path /mcp/idle }}
  default_backend files
backend files
  server up 127.0.0.1:{up_port}
backend idle
  http-request set-path /mcp
  server idle 127.0.0.1:{idle_port}
"""


def tether_conf(port, up_port, idle_port, idp_port, threads, db, level, maxconn):
    conns = ""
    for name, path in list(UPSTREAM_PATH.items()) + [("idle", None)]:
        url = (f"http://127.0.0.1:{up_port}{path}" if path else
               f"http://127.0.0.1:{idle_port}/mcp")
        conns += f"""  - kind: mcp
    name: {name}
    url: {url}
    auth:
      mode: oauth
      grant: client_credentials
      issuer: http://127.0.0.1:{idp_port}
      client_id: bench
      client_secret: bench-secret-0123456789
"""
    return f"""listen: 127.0.0.1:{port}
public_url: http://127.0.0.1:{port}
log: {{ level: {level}, format: json }}
server: {{ io_threads: {threads}, max_body_bytes: 2097152, max_connections: {maxconn} }}
storage: {{ driver: sqlite, path: {db}, allow_plaintext: true }}
encryption: {{ key: "{'ab' * 32}" }}
connections:
{conns}"""
