"""Building workbooks: the session-log template and its sample (``template``, ``sample``) and the
``ptbilling check --out`` report (``report``)."""
