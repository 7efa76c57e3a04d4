"""The notifications service: inboxes, templates, delivery channels."""
