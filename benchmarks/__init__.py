"""Benchmarks: calyptia-logs against bare aiohttp, same machine, same run.

Run ``python -m benchmarks`` (or ``python benchmarks/run.py``); ``--quick`` for a smoke test.
"""
