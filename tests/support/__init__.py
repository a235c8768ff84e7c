"""The tests' own harness, imported as ``support.loopback`` by the tests (tests/ is on their path) and
as ``tests.support.loopback`` by the benches (bench/): a real MPEG-TS publisher and receiver
(``loopback``), a ``stylecast serve`` or ``studio`` process (``server_process``), a browser viewer and a
scripted aiortc one (``viewer``, ``webrtc_client``), a private PipeWire daemon (``pipewire_session``), a
loopback Ray cluster (``ray_cluster``), painted canvases whose every frame's answer is known
(``painted_canvas``), the temporal metrics (``temporal_metrics``), waiting with a deadline
(``polling``), and the layer rule of the code (``layers``)."""
