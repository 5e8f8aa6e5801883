"""taxonbot: one package, a folder per domain (docs/architecture.md); the light commands never
import torch, transformers or llama.cpp (tests/test_architecture.py)."""

__version__ = "0.1.0"
