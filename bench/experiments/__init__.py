"""Prototypes of engine changes, measured by the benchmarks and never used by the engine itself."""
