"""The Pulumi program: the app's declarations become AWS or GCP resources (DESIGN §7).

Import nothing heavy here: ``infra.program.build`` is the entry, ``python -m infra.plan`` the dry run.
"""
