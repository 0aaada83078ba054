"""Scoring predictions against gold: span P/R/F1 (NER), accuracy / macro-F1 (NLI), correlations (STS)."""
