"""Pulumi entry point (Pulumi.yaml: main: infra/): read app:cloud, load the app, build it."""

import sys
from pathlib import Path

# Pulumi runs this directory as a script: make the project root importable (portside, handlers, infra)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.program import build  # noqa: E402

build()
