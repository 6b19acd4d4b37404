"""Rule tables and judging: load the versioned tables of data/rules, evaluate every criterion over value
intervals (three-valued: met, not met, unknown), place firms on the ladder and explain the gaps.

Owns: expressions (the safe condition language; scalar and floats evaluate it for one firm in Python floats),
parts (routes, bracket tables, the table error), status (status codes, Kleene logic, criterion results),
rulebook (tables, criteria, tiers, rule sets, and which SME rule set is in force on a date), forms (one class
per criterion form), criteria (the vectorised judge), ladder, gaps, levers.

May import: the field registry (webapp.fields) and webapp.paths. Nothing else of the engine.
"""
