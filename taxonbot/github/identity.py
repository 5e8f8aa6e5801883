"""Who taxonbot is on GitHub: the login its comments carry when it posts with GITHUB_TOKEN.

An Actions token cannot ask (GET /user answers 403 "Resource not accessible by integration"),
so this is the default everywhere a login is needed; another GitHub App's token posts as
"<app-slug>[bot]" and is passed with --bot-login.
"""

from __future__ import annotations

BOT_LOGIN = "github-actions[bot]"
