"""Reports built on the other apps' figures: the SLA attainment report (``attainment``),
its pages and downloads (``views``, ``exports``) and its API endpoint (``api``)."""
