"""Placeholder tabs for features that later issues build, saying what is coming."""

from __future__ import annotations

import gradio as gr

LABS = [
    (
        "Lab 1 — Fine-Tuning Strategy Advisor",
        "Describe your use case; get prompting vs RAG vs fine-tuning, the method, and the data you need.",
    ),
    (
        "Lab 2 — Dataset Builder & Critic",
        "Paste or upload training examples; get format, duplicate, leakage and consistency issues with line numbers.",
    ),
    (
        "Lab 3 — LoRA Hyperparameter Advisor",
        "Give your model, data size and GPU; get a LoRA config with a reason per value and a memory estimate.",
    ),
    (
        "Lab 4 — Evaluation Suite Designer",
        "Describe your task; get metrics, a judge rubric, adversarial cases and a monitoring plan.",
    ),
]


def build_advisors_placeholder() -> None:
    items = "\n".join(f"- **{name}**: {what}" for name, what in LABS)
    gr.Markdown(
        "## Advisor labs\n\nComing soon: four chat advisors that answer about *your* use case, "
        "grounded in the course with citations, on a local model.\n\n" + items
    )


def build_qlora_placeholder() -> None:
    gr.Markdown(
        "## QLoRA lab\n\nComing soon: train a small LoRA adapter for real — on this machine's GPU, or its CPU "
        "when there is none — with a live loss curve, a before/after comparison and export."
    )
