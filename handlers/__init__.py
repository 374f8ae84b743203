"""The reference application: business logic only; it imports portside and nothing cloud-specific."""
