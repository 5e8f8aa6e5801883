"""Reading the taxonomy: leaves, the safe YAML loader, findings, git diff and contributions."""
