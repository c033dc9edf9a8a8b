"""`scripts/bench`: measure makerspace_hub in a real Home Assistant process.

See `docs/benchmarks.md` (written by it) for what is measured and how.
"""
