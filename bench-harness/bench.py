#!/usr/bin/env python3
"""ringway's benchmark orchestrator: ringway against nginx, HAProxy and Envoy.

Runs every proxy under the same conditions (same worker count, same CPU
pinning, upstream keep-alive pools, access logs off, 127.0.0.1 only) in front
of the same origin, with the load generator and the origin on other CPUs, and
measures per scenario and proxy:

  max req/s        wrk (HTTP/1.1) or h2load (h2, gRPC), closed loop
  CPU per request  proxy utime+stime (/proc/PID/stat, all its processes)
                   over the measured window of a fixed-rate run, / requests
  latency          p50/p90/p99/p99.9 at the fixed rate (bench-load or wrk2:
                   open loop, coordinated-omission corrected; h2load --rps
                   for h2/gRPC: not corrected)
  memory           peak sum of VmRSS over the proxy's processes (sampled every
                   100 ms for the whole scenario) and the sum of their VmHWM
  errors           socket errors, non-2xx answers, failed exchanges
  instructions     per request (h1-keepalive, grpc-unary): perf stat, or callgrind's Ir
                   difference between two runs of N1 and N2 requests

Proxies are interleaved across rounds; each figure is the median over rounds
with min and max, and its ratio to nginx's median. Writes results.json,
results.md, latency-<scenario>.svg and throughput.svg. `--check DIR` verifies
that a results directory is complete.

This file is only the entry point: the harness is the `ringbench` package
next to it (see bench-harness/README.md for its modules). Standard library
only (Python 3.11).
"""

import sys

from ringbench.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
