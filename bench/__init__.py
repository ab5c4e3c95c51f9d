"""Benchmarks and bounded stress runs of Berth on the embedded control plane (not in `make test`)."""
