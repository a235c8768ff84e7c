"""Renders in chunks: ``stylecast render --cluster`` on Ray, or ``--cluster here`` (no Ray: the
chunks one after another in this process, as the studio renders). The address and Ray itself
(``address.py``), chunks at cuts and the plan's folder (``chunk_plan.py``), a chunk's own render
options (``chunk_options.py``), the workers (``chunk_worker.py``), the driver (``job.py``) and the
join by stream copy (``chunk_join.py``). Ray is imported only here, and only for a Ray address.

May import: ``stream.render``, ``stream.edit``, ``stream.styling``, ``stream.temporal``, ``stream.media``, ``stream.core`` and ``engines``.
"""
