"""The heavy `taxonbot` subcommands (preview, generate); bot.cli loads them only when chosen."""
