"""The pages: server-rendered HTML (Jinja2) for the business's billing page (W1)."""
