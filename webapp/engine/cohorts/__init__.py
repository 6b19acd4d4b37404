"""Cohort benchmarks: distributions fitted to published aggregates, percentiles of firms against them, the
cohorts a firm is compared with, and the four dimensions of innovation strength.

Owns: distributions, store (loading fitted and imported cohorts), benchmark (percentiles and their JSON),
geography (region, province and city cohorts), fit (fitting data/cohorts/aggregates.csv), dimensions.

May import: webapp.fields, webapp.paths, engine.rules and engine.io.
"""
