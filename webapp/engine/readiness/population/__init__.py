"""The simulated population the readiness model is trained on: parameters with their sources
(data/population), draws, the fit to cohort means, and the simulation that labels each firm with the
engine's verdict.

May import: webapp.fields, webapp.paths, engine.rules, engine.io and engine.cohorts.
"""
