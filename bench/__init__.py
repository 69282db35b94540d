"""Benchmarks of the engine (``engine_bench``) and the timer sweep (``sweep_bench``); see README.md."""
