"""Placeholder until the Pulumi program lands: it only loads the app declaration."""

from portside import load_app

load_app()
