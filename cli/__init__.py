"""The ``adplan`` command line, the top layer: Typer parses, calls the packages, Rich shows.

``cli.main`` holds the Typer ``app`` and ``main()`` (the ``adplan`` console script); each
group of commands lives in ``cli/commands/<topic>.py``. It imports service, scenarios,
forecasting and optimizer, and nothing imports it.
"""
