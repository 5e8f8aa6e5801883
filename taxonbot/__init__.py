"""taxonbot: the light package (check, diff, gaps, comment, GitHub). No torch, no llama.cpp."""

__version__ = "0.1.0"
