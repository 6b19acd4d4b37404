"""Cohort benchmarks: distributions fitted to published aggregates, percentiles of firms against them, the
cohorts a firm is compared with, and the four dimensions of innovation strength.

Owns: distributions (the families), metrics (metric names and their computation from profiles), store
(Cohort, loading fitted and imported cohorts), benchmark (percentiles and their JSON), geography (region,
province, city and tier cohorts), fit (fitting data/cohorts/aggregates.csv), basis (the zh/en sentences of
a fit), dimensions.

May import: webapp.fields, webapp.paths, engine.rules and engine.io.
"""
