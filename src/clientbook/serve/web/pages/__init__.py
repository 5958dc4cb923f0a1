"""One module per area of the web application; each exposes ``router``."""
