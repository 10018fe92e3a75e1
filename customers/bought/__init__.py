"""What was bought, put to work: "your usual", "also bought" and reorder intervals.

    stats.py      the arithmetic (medians, support, confidence, lift): standard library only
    pairs.py      the nightly product pairs and reorder intervals, set-based SQL
    selectors.py  reads for templates and the reorder trigger, a few queries per batch
"""
