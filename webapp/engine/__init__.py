"""GiantStep engine: pure Python, pandas, numpy and scikit-learn; never Flask.

Layers, lowest first; a module imports only from its own sub-package or from a lower layer:

1. ``webapp.fields`` (the field registry) and ``webapp.paths`` (where data, rules, models and the
   instance folder are);
2. ``rules`` (rule tables, judging, ladder, gaps) and ``io`` (validation, reading and writing tables);
3. ``cohorts`` (fitted distributions, percentiles, dimensions);
4. ``readiness`` (simulated population, classifier) and ``advice`` (actions, roadmap);
5. ``defaults`` (the process-wide rule book, cohorts and model), ``assess`` (the top step: one firm or a
   million) and ``batch`` (files in, files out).

Above the engine: ``webapp.reports``, then ``webapp.cli`` and ``webapp.web``. ``tests/test_layering.py``
enforces the order and the absence of import cycles.
"""
