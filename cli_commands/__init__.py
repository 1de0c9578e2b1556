"""The ``srdi`` sub-commands, grouped by area; ``cli.py`` registers them. Parse, call, print."""
