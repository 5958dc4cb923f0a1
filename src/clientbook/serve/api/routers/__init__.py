"""API routers; every module here exposes ``router`` and is mounted by the app factory."""
