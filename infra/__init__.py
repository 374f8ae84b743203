"""The Pulumi program: the app's declarations become AWS or GCP resources (DESIGN §7)."""
