"""LAB synthetic data generation: pipelines of named blocks over a model backend."""
