"""Messages: rendering templates per language, SMS arithmetic, and drafts routed to channels."""
