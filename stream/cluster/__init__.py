"""``stylecast render --cluster``: a render in chunks on Ray. The address and Ray itself
(``address.py``), chunks at cuts and the plan's folder (``chunk_plan.py``), the workers
(``chunk_worker.py``), the driver (``job.py``) and the join by stream copy (``chunk_join.py``).
Ray is imported only here.

May import: ``stream.render``, ``stream.look``, ``stream.media``, ``stream.core`` and ``engines``.
"""
