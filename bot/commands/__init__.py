"""One module per `taxonbot` subcommand; bot.cli.COMMANDS lists them."""
