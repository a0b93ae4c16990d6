#!/usr/bin/env python3
"""`make bench-proxy`: the real `tether serve` against nginx and HAProxy as reverse proxies,
on every shape of MCP traffic, in one run (docs/benchmarks.md).

    bench/proxy-matrix.py [BUILD_DIR]

Starts nginx serving the upstream's answers from files (the direct run shows it is faster
than every proxy), a quiet SSE upstream for idle streams, the mock IdP, `tether serve` with
OAuth connections whose token comes from the client-credentials grant at start, and nginx
(`proxy_buffering off`) and HAProxy injecting a token of the same IdP. Then, in interleaved
rounds (every contender in turn, the order rotating):

  json      POST tools/list, small JSON-RPC answer       wrk -c1 and -c32
  sse       POST, 100 SSE events of 200 bytes             wrk -c1 and -c32, + first/last event
  big_resp  POST, 1 MiB JSON answer                       wrk -c1 and -c32
  big_req   POST of a 1 MiB body, small answer            wrk -c1 and -c32
  idle      N idle standalone GET streams: RSS per stream, a json run beside them, leak check

Prints medians, ratios against the better of nginx and HAProxy, and writes every raw figure
to BUILD_DIR/bench-results/proxy-matrix/. Exits non-zero only when something cannot be set
up (a process does not start, a contender answers errors); figures are never asserted.

Environment: BENCH_ROUNDS (5), BENCH_SECONDS (2), BENCH_STREAMS (10000, clamped to what
`ulimit -n` allows), BENCH_IDLE_ROUNDS (5), BENCH_WORKERS (2: proxy workers/threads),
BENCH_TETHER_LOG (info: access log on, as operators run it), BENCH_SHAPES (all),
BENCH_QUICK=1 (a smoke run for ctest: 1 round of 1 s, each shape at one client count, 200
streams, 1 idle round),
BENCH_TETHER_BEFORE=PATH (another `tether` binary as one more contender, "before": a change
measured before/after in the same rounds).
"""

import json
import os
import pwd
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import proxy_matrix_clients as clients  # noqa: E402
import proxy_matrix_peers as peers  # noqa: E402

CONTENDERS = ["direct", "tether", "nginx", "haproxy"]
PROXIES = ["tether", "nginx", "haproxy"]
SHAPES = ("json", "sse", "big_resp", "big_req")


class SetupError(Exception):
    pass


def env_int(name, default):
    return int(os.environ.get(name, default))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, seconds=20.0):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.1)
    raise SetupError(f"{what} did not come up within {seconds:.0f} s ({last})")


def post(url, body=b"{}", headers=None):
    req = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.read()


def rss_kib(pid):
    """RSS of a process and its children (nginx's workers), KiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except FileNotFoundError:
            pass
    return total


def to_us(v):
    for suffix, k in (("us", 1), ("ms", 1000), ("s", 1e6)):
        if v.endswith(suffix):
            return float(v[: -len(suffix)]) * k
    return float(v)


class Bench:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.quick = os.environ.get("BENCH_QUICK") == "1"
        self.rounds = env_int("BENCH_ROUNDS", 1 if self.quick else 5)
        self.secs = env_int("BENCH_SECONDS", 1 if self.quick else 2)
        self.workers = env_int("BENCH_WORKERS", 2)
        self.idle_rounds = env_int("BENCH_IDLE_ROUNDS", 1 if self.quick else 5)
        # The quick run touches every shape once, at one of the two client counts each.
        self.concs = ({"json": [1], "sse": [32], "big_resp": [1], "big_req": [32]}
                      if self.quick else {s: [1, 32] for s in SHAPES})
        self.shapes = os.environ.get("BENCH_SHAPES", ",".join(SHAPES + ("idle",))).split(",")
        self.log_level = os.environ.get("BENCH_TETHER_LOG", "info")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.fd_limit = hard
        # A proxy holds two descriptors per stream (caller and upstream).
        want = env_int("BENCH_STREAMS", 200 if self.quick else 10000)
        self.streams = min(want, (hard - 1000) // 2)
        self.streams_wanted = want
        # The smoke run keeps its own folder: it never overwrites a real run's figures.
        self.out = os.path.join(self.build, "bench-results",
                                "proxy-matrix-quick" if self.quick else "proxy-matrix")
        os.makedirs(self.out, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="tether-proxy-matrix.")
        self.procs = {}
        self.rows = []  # dicts: shape, conc, round, name, rps, p50_us, p99_us, mib_s
        self.extra = {}

    # ---------------------------------------------------------------- processes
    def spawn(self, name, argv, **kw):
        log = open(os.path.join(self.tmp, name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=kw.pop("stdout", log), stderr=log,
                             stdin=subprocess.DEVNULL, **kw)
        self.procs[name] = p
        return p

    def stop_all(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for name, p in self.procs.items():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    def log_tail(self, name):
        try:
            with open(os.path.join(self.tmp, name + ".log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def start(self):
        for tool in ("nginx", "haproxy", "wrk"):
            if not shutil.which(tool):
                raise SetupError(f"needs {tool} on PATH")
        tether = os.path.join(self.build, "tether")
        idp = os.path.join(self.build, "tether-mock-idp")
        for b in (tether, idp):
            if not os.access(b, os.X_OK):
                raise SetupError(f"{b} is missing (cmake --build {self.build} --target "
                                 "tether tether-mock-idp)")
        p = self.ports = {k: free_port() for k in ("up", "idle", "idp", "tether", "nginx",
                                                     "haproxy")}
        user = ["-g", f"user {pwd.getpwuid(os.getuid()).pw_name};"] if os.getuid() == 0 else []
        # the upstream
        up = os.path.join(self.tmp, "upstream")
        peers.write_files(os.path.join(up, "files"))
        with open(os.path.join(up, "nginx.conf"), "w") as f:
            f.write(peers.upstream_nginx_conf(up, p["up"], env_int("BENCH_UPSTREAM_WORKERS", 2)))
        self.spawn("upstream", ["nginx", "-p", up, "-c", up + "/nginx.conf"] + user)
        self.spawn("idle-upstream", [sys.executable, os.path.join(HERE, "proxy_matrix_clients.py"),
                                     "idle-upstream", str(p["idle"])])
        self.spawn("mock-idp", [idp, "--port", str(p["idp"]), "--log-level", "warn",
                                "--access-token-lifetime", "24h",
                                "--client", "bench:bench-secret-0123456789"])
        wait_for("the mock IdP", lambda: urllib.request.urlopen(
            f"http://127.0.0.1:{p['idp']}/.well-known/oauth-authorization-server", timeout=2))
        # The peers' credential: a token of the same IdP and grant (the same header size).
        _, tok = post(f"http://127.0.0.1:{p['idp']}/token",
                      b"grant_type=client_credentials&client_id=bench&client_secret="
                      b"bench-secret-0123456789",
                      {"Content-Type": "application/x-www-form-urlencoded"})
        token = json.loads(tok)["access_token"]
        # tether serve
        conf = os.path.join(self.tmp, "tether.yaml")
        with open(conf, "w") as f:
            f.write(peers.tether_conf(p["tether"], p["up"], p["idle"], p["idp"], self.workers,
                                      os.path.join(self.tmp, "tether.db"), self.log_level,
                                      self.streams + 1000))
        self.spawn("tether", [tether, "serve", "--config", conf])
        before = os.environ.get("BENCH_TETHER_BEFORE")
        if before:
            p["before"] = free_port()
            conf = os.path.join(self.tmp, "before.yaml")
            with open(conf, "w") as f:
                f.write(peers.tether_conf(p["before"], p["up"], p["idle"], p["idp"],
                                          self.workers, os.path.join(self.tmp, "before.db"),
                                          self.log_level, self.streams + 1000))
            self.spawn("before", [before, "serve", "--config", conf])
            CONTENDERS.append("before")
            PROXIES.append("before")
        # nginx and HAProxy as reverse proxies
        ng = os.path.join(self.tmp, "nginx")
        os.makedirs(ng)
        with open(os.path.join(ng, "nginx.conf"), "w") as f:
            f.write(peers.proxy_nginx_conf(ng, p["nginx"], p["up"], p["idle"], self.workers, token))
        self.spawn("nginx", ["nginx", "-p", ng, "-c", ng + "/nginx.conf"] + user)
        hc = os.path.join(self.tmp, "haproxy.cfg")
        with open(hc, "w") as f:
            f.write(peers.haproxy_conf(self.tmp, p["haproxy"], p["up"], p["idle"], self.workers,
                                       token, min(self.streams + 100, (self.fd_limit - 32) // 2)))
        self.spawn("haproxy", ["haproxy", "-db", "-f", hc])
        self.base = {"direct": f"http://127.0.0.1:{p['up']}",
                     "tether": f"http://127.0.0.1:{p['tether']}",
                     "nginx": f"http://127.0.0.1:{p['nginx']}",
                     "haproxy": f"http://127.0.0.1:{p['haproxy']}"}
        if "before" in p:
            self.base["before"] = f"http://127.0.0.1:{p['before']}"
        for name in CONTENDERS:
            for route in ("json", "sse", "big"):
                url = self.url(name, route)
                wait_for(f"{name} ({url})", lambda u=url: post(u)[0] == 200, 30)
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise SetupError(f"{name} exited: {self.log_tail(name)}")

    def url(self, name, route):
        if name == "direct":
            return self.base[name] + peers.UPSTREAM_PATH[route]
        return self.base[name] + "/mcp/" + route

    # ---------------------------------------------------------------- measuring
    def lua(self, shape):
        path = os.path.join(self.tmp, shape + ".lua")
        if not os.path.exists(path):
            body = ('{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
                    if shape != "big_req" else big_request())
            peers.write_lua(path, body)
        return path

    def wrk(self, shape, name, conc, secs, tag):
        route = {"json": "json", "sse": "sse", "big_resp": "big", "big_req": "json"}[shape]
        threads = 1 if conc == 1 else 2
        cmd = ["wrk", f"-t{threads}", f"-c{conc}", f"-d{secs}s", "--latency", "-s",
               self.lua(shape), self.url(name, route)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 30)
        with open(os.path.join(self.out, f"wrk-{tag}-{shape}-c{conc}-{name}.txt"), "w") as f:
            f.write(" ".join(cmd) + "\n" + r.stdout + r.stderr)
        if r.returncode != 0 or "Non-2xx" in r.stdout:
            raise SetupError(f"wrk against {name} ({shape}) failed:\n{r.stdout}{r.stderr}")
        figures = {}
        for line in r.stdout.splitlines():
            f = line.split()
            if line.startswith("Requests/sec:"):
                figures["rps"] = float(f[1])
            elif line.startswith("Transfer/sec:"):
                figures["transfer"] = f[1]
            elif len(f) == 2 and f[0] in ("50%", "99%"):
                figures["p50_us" if f[0] == "50%" else "p99_us"] = to_us(f[1])
        return figures

    def throughput_rounds(self):
        shapes = [s for s in SHAPES if s in self.shapes]
        for s in shapes if not self.quick else []:  # warm-up: pools, tokens, caches
            for name in CONTENDERS:
                self.wrk(s, name, 8, 1, "warmup")
        for rnd in range(1, self.rounds + 1):
            for s in shapes:
                for conc in self.concs[s]:
                    for i in range(len(CONTENDERS)):
                        name = CONTENDERS[(i + rnd) % len(CONTENDERS)]
                        fig = self.wrk(s, name, conc, self.secs, f"r{rnd}")
                        self.rows.append(dict(shape=s, conc=conc, round=rnd, name=name, **fig))
            print(f"  throughput round {rnd}/{self.rounds} done (load {load()})",
                  file=sys.stderr, flush=True)

    def sse_latency(self):
        n = 20 if self.quick else 300
        body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}'
        self.extra["sse_timing"] = {}
        for rnd in range(1, self.rounds + 1):
            for i in range(len(CONTENDERS)):
                name = CONTENDERS[(i + rnd) % len(CONTENDERS)]
                port = int(self.base[name].rsplit(":", 1)[1])
                path = self.url(name, "sse").split(str(port), 1)[1]
                try:
                    first, last = clients.sse_timings("127.0.0.1", port, path, n, body)
                except (OSError, RuntimeError, ValueError) as e:
                    raise SetupError(f"SSE timing through {name}: {e}") from e
                d = self.extra["sse_timing"].setdefault(name, {"first": [], "last": []})
                d["first"] += first
                d["last"] += last

    def idle_streams(self):
        res = self.extra["idle"] = {"streams": self.streams, "rounds": {}}
        for rnd in range(1, self.idle_rounds + 1):
            for i in range(len(PROXIES)):
                name = PROXIES[(i + rnd) % len(PROXIES)]
                pid = self.procs[name].pid
                port = int(self.base[name].rsplit(":", 1)[1])
                alone = self.wrk("json", name, 32, self.secs, f"idle{rnd}-alone")["rps"]
                before = rss_kib(pid)
                holder = subprocess.Popen(
                    [sys.executable, os.path.join(HERE, "proxy_matrix_clients.py"), "hold",
                     "127.0.0.1", str(port), "/mcp/idle", str(self.streams)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                line = holder.stdout.readline().strip()
                if not line.startswith("ready"):
                    # A proxy that cannot hold the streams is a finding, not a setup failure.
                    holder.kill()
                    holder.wait()
                    res.setdefault("failed", {})[name] = line or "the holder died"
                    print(f"  {self.streams} idle streams through {name}: {line}",
                          file=sys.stderr, flush=True)
                    time.sleep(2.0)
                    continue
                time.sleep(0.5)
                held = rss_kib(pid)
                beside = self.wrk("json", name, 32, self.secs, f"idle{rnd}-beside")["rps"]
                holder.stdin.write("close\n")
                holder.stdin.flush()
                holder.wait(timeout=30)
                # Every proxy has let go by then (the quick run has no later round to spoil).
                time.sleep(1.0 if self.quick else clients.HEARTBEAT_S + 1.0)
                after = rss_kib(pid)
                res["rounds"].setdefault(name, []).append(dict(
                    round=rnd, open_s=float(line.split()[2]), rss_before_kib=before,
                    rss_held_kib=held, rss_after_kib=after, json_alone_rps=alone,
                    json_beside_rps=beside))
            print(f"  idle round {rnd}/{self.idle_rounds} done", file=sys.stderr, flush=True)

    # ---------------------------------------------------------------- report
    def report(self):
        med = statistics.median
        lines = []
        p = lines.append
        p(f"Tether proxy matrix: {self.rounds} rounds x {self.secs} s, {self.workers} "
          f"workers/threads per proxy, Tether log level {self.log_level}; "
          f"{os.cpu_count()} CPUs, load at the end {load()}")
        p("ratio = Tether / the better of nginx and HAProxy in the same round (median of rounds)")
        shapes = [s for s in SHAPES if s in self.shapes]
        for s in shapes:
            for conc in (1, 32):
                rs = [r for r in self.rows if r["shape"] == s and r["conc"] == conc]
                if not rs:
                    continue
                p("")
                p(f"== {s}, {conc} client{'s' if conc > 1 else ''}")
                p(f"{'':10}{'req/s':>10}{'p50 us':>10}{'p99 us':>10}")
                by = {}
                for name in CONTENDERS:
                    mine = [r for r in rs if r["name"] == name]
                    by[name] = {r["round"]: r for r in mine}
                    p(f"{name:10}{med(r['rps'] for r in mine):10.0f}"
                      f"{med(r['p50_us'] for r in mine):10.1f}"
                      f"{med(r['p99_us'] for r in mine):10.1f}")
                ratios = [by["tether"][k]["rps"] / max(by["nginx"][k]["rps"],
                                                        by["haproxy"][k]["rps"])
                          for k in sorted(by["tether"])]
                p(f"throughput ratio {med(ratios):.2f}  (rounds: "
                  + " ".join(f"{x:.2f}" for x in ratios) + ")")
                if "before" in by:
                    old = [by["before"][k]["rps"] / max(by["nginx"][k]["rps"],
                                                        by["haproxy"][k]["rps"])
                           for k in sorted(by["before"])]
                    p(f"  before: {med(old):.2f}  (rounds: "
                      + " ".join(f"{x:.2f}" for x in old) + ")")
                if conc == 1:
                    added = {n: med(by[n][k]["p50_us"] - by["direct"][k]["p50_us"]
                                    for k in by[n]) for n in PROXIES}
                    p("added p50 over direct: " + ", ".join(f"{n} {added[n]:+.1f} us"
                                                              for n in PROXIES))
        if "sse_timing" in self.extra:
            t = self.extra["sse_timing"]
            q = lambda xs, f: sorted(xs)[min(len(xs) - 1, int(f * len(xs)))]  # noqa: E731
            p("")
            p("== sse, one POST at a time (own client): time to first event / to last, us")
            p(f"{'':10}{'first p50':>10}{'first p99':>10}{'last p50':>10}{'last p99':>10}")
            for name in CONTENDERS:
                d = t[name]
                p(f"{name:10}{q(d['first'], .5):10.0f}{q(d['first'], .99):10.0f}"
                  f"{q(d['last'], .5):10.0f}{q(d['last'], .99):10.0f}")
            dp99 = q(t["direct"]["first"], .99)
            p("first event p99 over direct: " + ", ".join(
                f"{n} {q(t[n]['first'], .99) - dp99:+.0f} us" for n in PROXIES))
        if "idle" in self.extra:
            idle = self.extra["idle"]
            p("")
            clamp = (f" (wanted {self.streams_wanted}; ulimit -n is {self.fd_limit})"
                     if self.streams < self.streams_wanted else "")
            p(f"== {idle['streams']} idle standalone GET streams{clamp}, "
              f"{self.idle_rounds} rounds")
            p(f"{'':10}{'KiB/stream':>11}{'json loss':>10}{'RSS r1':>10}{'RSS rN':>10}"
              f"{'growth':>8}")
            for name, why in idle.get("failed", {}).items():
                p(f"{name:10} could not hold them in some round: {why}")
            for name in PROXIES:
                rr = idle["rounds"].get(name)
                if not rr:
                    continue
                # The first round's: later rounds reuse what the allocator kept from it.
                per = (rr[0]["rss_held_kib"] - rr[0]["rss_before_kib"]) / idle["streams"]
                loss = med(1 - r["json_beside_rps"] / r["json_alone_rps"] for r in rr)
                first, last = rr[0]["rss_after_kib"], rr[-1]["rss_after_kib"]
                p(f"{name:10}{per:11.2f}{loss * 100:9.1f}%{first:10d}{last:10d}"
                  f"{(last / first - 1) * 100:7.1f}%")
            p("(KiB/stream: RSS with the streams open minus before, per stream, in the first "
              "round; json loss: "
              "wrk -c32 small JSON beside the streams vs alone; growth: RSS after the last "
              "round's streams closed vs after the first's)")
        text = "\n".join(lines)
        print(text)
        with open(os.path.join(self.out, "matrix.txt"), "w") as f:
            f.write(text + "\n")
        with open(os.path.join(self.out, "raw.json"), "w") as f:
            json.dump({"rows": self.rows, **self.extra}, f, indent=1)
        print(f"\nraw figures in {self.out}/ (raw.json, matrix.txt, wrk-*.txt)")


def big_request():
    head = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"'
    tail = '"}}}'
    return head + "a" * (peers.BIG_BYTES - len(head) - len(tail)) + tail


def load():
    return open("/proc/loadavg").read().split()[0]


def main():
    bench = Bench(sys.argv[1] if len(sys.argv) > 1 else "build")
    try:
        bench.start()
        print(f"bench-proxy: all up in {bench.tmp} (load {load()})", file=sys.stderr, flush=True)
        if any(s in bench.shapes for s in SHAPES):
            bench.throughput_rounds()
        if "sse" in bench.shapes:
            bench.sse_latency()
        if "idle" in bench.shapes:
            bench.idle_streams()
        bench.report()
        return 0
    except SetupError as e:
        if bench.rows:
            try:
                bench.report()  # what was measured before it
            except Exception as r:  # a partial matrix may lack a column
                print(f"bench-proxy: partial report failed: {r!r}", file=sys.stderr)
        print(f"bench-proxy: setup failure: {e}", file=sys.stderr)
        for name in bench.procs:
            tail = bench.log_tail(name)
            if tail.strip():
                print(f"--- {name}.log\n{tail}", file=sys.stderr)
        return 1
    finally:
        bench.stop_all()
        if os.environ.get("BENCH_KEEP_TMP") != "1":
            shutil.rmtree(bench.tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
