"""taxonbot's heavy pipeline: model runtime, SDG, training, build, release.

Nothing here is imported by `taxonbot check`; heavy libraries load only inside the commands
that need them.
"""
