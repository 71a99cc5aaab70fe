"""Fine-Tuning Tutor core library: settings, content, store, accounts, progress (no Gradio here)."""

__version__ = "0.1.0"
