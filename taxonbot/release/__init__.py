"""Releasing a build: the manifest, notes, tag and GitHub release; announcing it on PRs."""
