"""ringbench: ringway's benchmark harness as a package (standard library only).

`bench.py`, `xds_bench.py` and `eureka_bench.py` next to this directory are
the entry points. Imports go one way only, from the bottom of this list to
the top (a module imports only modules listed above it):

  util          constants, logging, bounded waits, small HTTP/socket helpers
  procs         process supervision: spawn, stop by PID, pinning, signals
  procfs        /proc probes: CPU time and memory of a process tree
  parsers       pure parsers of wrk, wrk2, h2load, bench-load, callgrind, perf
  scenarios     the scenarios, proxy capabilities and the metrics table
  context       the run context (options, CPUs, tools found)
  measure       max throughput and fixed-rate measurements
  origins       the origin servers (bench-origin or nginx)
  proxies       one module per proxy: configuration and start-up
  instructions  instructions per request (callgrind or perf)
  rounds        one round of a scenario for one proxy
  aggregate     per-round values -> medians, ratios, notes
  machine       machine and tool versions
  markdown, svg, report   results.md, the SVGs, results.json
  check         `--check DIR`: completeness and zero errors
  runner        a whole run
  cli           the command line of bench.py
"""
