"""The ``ptbilling`` command line: ``main`` (the parser) and one module per command."""
