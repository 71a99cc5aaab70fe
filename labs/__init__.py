"""Gradio tab builders. Thin: each handler resolves who is asking and makes one core call."""
