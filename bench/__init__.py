"""The reference data set and the benchmark harness (`make bench`)."""
