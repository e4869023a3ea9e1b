"""The conditions and actions the journey's transitions name, grouped by the article's steps."""
