"""GiantStep engine: pure Python, no Flask."""
