"""The PR comment, labels and `/taxonbot` commands: the pure core of the bot (no network).

render.py turns a result into Markdown, plan.py turns it into the actions that reconcile a pull
request, commands.py reads a comment's command; taxonbot/github/ carries the actions out.
"""
