"""Benchmarks: the store at 100 to 100,000 conversations, the engine, the full stack, and crashes."""
