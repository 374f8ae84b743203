"""Thin adapters, one package per target: fake, local, aws, gcp (DESIGN §2)."""
