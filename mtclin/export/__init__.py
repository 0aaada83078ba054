"""Serving exports of a saved multitask model: one ONNX graph (encoder + every head), optionally int8-quantised.

``onnx.export_onnx(model_dir, out_dir, quantize=None|"int8")`` writes an export directory (``export_onnx_all``:
both precisions from one trace); ``runtime.OnnxModel`` runs it with ONNX Runtime behind the same ``forward`` / ``forward_heads`` interface as ``MultiTaskModel``, so
``Predictor`` and the evaluation code use it unchanged.
"""
