"""CSV imports: purchases and contacts, from the command line, from code and from the
dashboard's upload (docs/architecture.md).

- reading: the file itself (UTF-8, delimiter, header, limits), amounts with a decimal comma,
  and the rejected-rows report, shared by both imports;
- purchases: the purchase import, streaming and set-based: purchase_rows checks a row,
  purchase_staging stages the valid ones, purchase_merge merges them and runs what follows;
- contacts: the contact import (upsert by email);
- jobs, views, forms: the browser upload and its ImportJob; retention: what jobs keep, and
  for how long.
"""
