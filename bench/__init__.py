"""`make bench`: the service's verify throughput, latency and memory against the bare library."""
