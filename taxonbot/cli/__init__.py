"""One module per `taxonbot` subcommand; taxonbot.cli.main.COMMANDS lists them."""
