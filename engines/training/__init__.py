"""Networks trained by stylecast itself: a painted shot's generator, trained on patches of the
(source, painting) pairs and cached by their hashes (``keyframe_training.py``).

May import: ``engines.runtimes``, ``engines.networks`` and the top of ``engines``.
"""

STEPS = 2700  # a painted shot's training steps: 250-275 s on 2 cores with AMX (92-101 ms a step, at any frame size)
