"""The Pulumi program: the app's declarations become AWS or GCP resources (docs/architecture.md, "Mapping to each cloud").

Import nothing heavy here: ``portside.infra.program.build`` is the entry, ``python -m portside.infra.plan`` the dry run.
"""
