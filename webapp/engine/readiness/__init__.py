"""Readiness: the simulated population, the calibrated per-tier classifiers trained on it, their artefact
and model card, and the drivers that move a firm's probability.

Owns: features, train, calibration, card, store (artefact files), model (ReadinessModel, predictions and
their JSON), explain (drivers), build (population to artefact), and the population sub-package.

May import: webapp.fields, webapp.paths, engine.rules, engine.io and engine.cohorts. It judges with the
rule set it is given; it never reaches for process-wide defaults.
"""
