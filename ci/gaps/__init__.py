"""The heavy side of `taxonbot gaps`: pictures and embeddings, loaded only by that command."""
