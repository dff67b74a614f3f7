"""The business's way into its billing page without an API key (W1): single-use links and
the browser sessions they open."""
