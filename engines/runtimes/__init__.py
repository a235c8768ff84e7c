"""What runs a style network: the CPU engine (``cpu.py``: ONNX Runtime, or torch in bf16 through
``bf16_network.py`` where ``cpu_features.py`` finds AMX; ``heap.py`` keeps freed memory), and on a
GPU the torch CUDA engine (``cuda.py``) and TensorRT (``tensorrt.py``, its built engines in
``tensorrt_cache.py``; ``engines/build_engine.py`` builds one ahead), both on the device
frame buffers of ``gpu_network.py``.

May import: ``engines.networks`` and the top of ``engines``; not ``training``.
"""
