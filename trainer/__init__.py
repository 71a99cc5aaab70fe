"""Fine-tuning library for the QLoRA lab (config, data, model, train loop, evaluate, export).

Filled by the QLoRA lab issue; kept free of Gradio so the CLI and tests drive it directly.
"""
