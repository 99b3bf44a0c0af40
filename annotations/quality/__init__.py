"""Agreement, stance flow and charts: pure modules (agreement, flow, charts) and their database side (queries)."""
