"""Helpers the tests share that are neither doubles nor fixtures: one git helper (git.py)."""
