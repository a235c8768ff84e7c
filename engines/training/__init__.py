"""Networks trained by stylecast itself: a painted shot's generator, trained on patches of the
(source, painting) pairs and cached by their hashes (``keyframe_training.py``).

May import: ``engines.runtimes``, ``engines.networks`` and the top of ``engines``.
"""
