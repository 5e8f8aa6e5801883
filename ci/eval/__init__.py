"""Evaluating community builds: the fixed regression set every build answers."""
