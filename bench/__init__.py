"""Benchmarks of what the multitask model buys: ``python -m bench.inference`` and ``python -m bench.training``.

See bench/README.md for how to run them and what every figure means."""
