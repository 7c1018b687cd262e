"""Tests, questions, attempts, scoring, results and CSV export."""
