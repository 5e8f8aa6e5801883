"""`taxonbot build`: a versioned community build from a taxonomy commit (run.py)."""
