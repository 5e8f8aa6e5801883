"""Reading the taxonomy: leaves, the safe YAML loader, schemas, git diff and history."""
