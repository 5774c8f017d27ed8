"""Notifications: the outbox, its delivery worker, and the mail and SMS backends."""
