"""Profile tables in and out: coerce and validate raw values against the field registry, read and write
CSV, XLSX and Parquet files, write the input template.

Owns: parse (text to numbers, booleans and codes), inputs (validate_profiles), tables (reading and writing
files, header checks), formats (table formats, TableError), readers and writers (streaming CSV, XLSX and
Parquet), template.

May import: the field registry (webapp.fields) and webapp.paths. Nothing else of the engine.
"""
