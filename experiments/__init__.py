"""Experiment scripts: the paper's Table 1 and figures (run from the repository root)."""
