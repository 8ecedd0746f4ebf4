"""Reading session logs and EMR exports: files to rows (``reader``), header recognition
(``columns``), cells to claim lines (``cells``, ``fees``) and checking a whole log (``check``)."""
