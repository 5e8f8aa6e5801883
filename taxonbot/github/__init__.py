"""The bot's side of GitHub: one port (port.py), its PyGithub adapter, and `apply`."""
