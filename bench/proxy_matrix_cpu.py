#!/usr/bin/env python3
"""CPU time `tether serve` spends per request on each shape of the proxy matrix.

    bench/proxy_matrix_cpu.py [BUILD_DIR] [SECONDS]

Sets up what `make bench-proxy` does (bench/proxy-matrix.py: the nginx upstream, the mock
IdP, `tether serve` with its OAuth connections, the peers), then runs wrk against Tether
alone on every shape at 1 and 32 clients and prints req/s and the CPU time (user + system,
from /proc/PID/stat) Tether spent per request. On a shared, loaded machine req/s moves with
the neighbours; the work per request does much less, so a change is measured with this,
run alternately on the build before and the build after (docs/benchmarks.md).
"""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
_spec = importlib.util.spec_from_file_location("proxy_matrix",
                                               os.path.join(HERE, "proxy-matrix.py"))
pm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pm)


def main():
    bench = pm.Bench(sys.argv[1] if len(sys.argv) > 1 else "build")
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tick = os.sysconf("SC_CLK_TCK")
    try:
        bench.start()
        pid = bench.procs["tether"].pid

        def cpu_s():
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / tick

        print(f"{'shape':10}{'clients':>8}{'req/s':>10}{'CPU us/req':>12}  (load {pm.load()})")
        for shape in pm.SHAPES:
            for conc in (1, 32):
                before = cpu_s()
                got = bench.wrk(shape, "tether", conc, secs, "cpu")
                spent = cpu_s() - before
                print(f"{shape:10}{conc:>8}{got['rps']:10.0f}"
                      f"{1e6 * spent / max(1.0, got['rps'] * secs):12.1f}", flush=True)
        print(f"tether RSS {pm.rss_kib(pid)} KiB")
        return 0
    except pm.SetupError as e:
        print(f"proxy_matrix_cpu: setup failure: {e}", file=sys.stderr)
        return 1
    finally:
        bench.stop_all()


if __name__ == "__main__":
    sys.exit(main())
