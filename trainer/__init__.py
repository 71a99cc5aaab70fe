"""Fine-tuning library for the QLoRA lab (config, data, model, train loop, evaluate, export).

It stands alone: nothing here depends on the app (``tutor``) or on Gradio, so ``python -m trainer``,
the app's run queue and the tests drive it directly. The app imports it, never the reverse.
"""
