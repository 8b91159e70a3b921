"""One module per group of ``adplan`` commands; each exposes ``register(app)``."""
