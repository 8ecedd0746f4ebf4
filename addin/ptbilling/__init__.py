"""ptbilling: outpatient therapy billing rules for Excel (xlwings) and the command line."""
__version__ = "0.1.0"
