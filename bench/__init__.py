"""Benchmarks: `make bench NAME=x` or `python -m bench x`; each prints its figures, its baseline
measured in the same run, the ratio, and the conditions (database, rows, cores)."""
