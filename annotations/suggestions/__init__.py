"""Stance suggestions learned from the team's own consensus labels (issue 16).

`model.py` is pure (scikit-learn and numpy, no Django): examples in, a two-stage model and its measured quality
out. The database side (which labels train it, where models and their predictions are stored, who may see them)
lives next to it in `queries.py` and `actions.py`.
"""
