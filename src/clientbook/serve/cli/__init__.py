"""The ``clientbook`` command line (Typer). Each module adds one command group."""
