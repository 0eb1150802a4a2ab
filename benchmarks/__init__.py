"""wirewatch's benchmarks, run by `make bench`.

Each `bench_*.py` module exposes `run(args: argparse.Namespace) -> dict` and `add_arguments(parser)`;
`python -m benchmarks [NAME ...]` runs them in turn. Speed goals live here, never in tests: every
benchmark measures its baseline in the same run and reports ratios against it, so figures from
different machines compare. Each benchmark prints a table and, as its last line, one JSON object.
"""
