"""The style networks themselves: what they compute and where their weights come from, apart from
what runs them. The stack both packaged transformers share, with a style folded in
(``folded_net.py``; ``style_layers.py`` folds a built-in style, blend or picture into it), the
26-style network (``multistyle_net.py``) and the picture-style one (``picture_net.py``) in torch,
their ONNX forms for ONNX Runtime (``onnx_networks.py``, ``any_size_model.py`` frees the picture
transformer's size, ``graph_rewrite.py`` fuses its instance norms and splits its first convolution,
``external_data.py``), the
``.pth`` import (``transformer_net.py``, ``export.py``), a painted shot's small generator
(``keyframe_net.py``), the distilled student (``student_net.py``), and the one place host frames
become network tensors (``tensors.py``).

May import: the top of ``engines`` (its contract, catalog, models, errors); not ``runtimes`` or
``training``.
"""
