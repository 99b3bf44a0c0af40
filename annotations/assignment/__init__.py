"""Who labels what: the plan (pure), its storage and use cases (actions), and its read side (queries)."""
