"""Google Cloud: the app's declarations as Cloud Storage, Pub/Sub, Firestore, Cloud Scheduler and
Cloud Functions 2nd gen (docs/architecture.md, "Mapping to each cloud")."""
