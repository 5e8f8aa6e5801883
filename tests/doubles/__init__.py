"""Test doubles: fakes, stand-ins and tiny models. Never imported by taxonbot/."""
