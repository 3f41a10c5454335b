"""Benchmarks: the product's bulk paths against the database's own limits (issue 9).

Run ``python -m bench all --size smoke|quick|full`` or ``python -m bench <name> --size ...``;
see bench/README.md.  Every benchmark builds its own data with set-based SQL, runs the
product the way production does (admin API + an RQ worker process), then a raw-SQL
baseline on the same data, and reports the ratio of the two measured in the same run.
"""
