"""The bot's side of GitHub: the port (port.py) and its PyGithub adapter, the values they speak
(values.py, records.py), our comment's markers, the managed labels, the bot's login, finding a
PR from trusted facts (locate.py), and carrying out a plan (apply.py, converge.py)."""
