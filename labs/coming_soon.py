"""Placeholder tab for the QLoRA lab, which a later issue builds, saying what is coming."""

from __future__ import annotations

import gradio as gr


def build_qlora_placeholder() -> None:
    gr.Markdown(
        "## QLoRA lab\n\nComing soon: train a small LoRA adapter for real — on this machine's GPU, or its CPU "
        "when there is none — with a live loss curve, a before/after comparison and export."
    )
