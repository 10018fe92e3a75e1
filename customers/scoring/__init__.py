"""Conversion-likelihood scoring: the statistical model and the job around it.

    model/     the "buy till you die" models and the nightly pipeline: numpy/scipy only,
               no Django (a test enforces it), so it runs anywhere numpy and scipy do
    runs.py    the job: ScoringRun, fit once, score every contact in chunks, publish
    store.py   purchases out of and scores into the database (binary COPY on PostgreSQL)
    report.py  everything people read about a run, worded and translatable
    export.py  export_contacts: every contact with its current scores as CSV
    admin.py   the ScoringRun admin (imported by customers.admin to register it)
    freshness.py  re-scoring after a batch of writes, chunked, within minutes

Nothing is imported here, so `import customers.scoring.model` stays free of Django.
"""
