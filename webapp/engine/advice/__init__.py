"""Advice: actions for the open requirements of the target tiers, a roadmap at the firm's own growth rates,
the seed report's themes, and the planning constants of data/advice.

Owns: data (planning constants, actions, themes, documents), actions, rank, roadmap, format, advise.

May import: webapp.fields, webapp.paths, engine.rules, engine.io and engine.cohorts. It works on an
assessment's result dict and the rule book and cohorts it is given.
"""
