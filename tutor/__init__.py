"""Fine-Tuning Tutor core library: settings, content, store, accounts, progress (no Gradio here)."""

import logging

__version__ = "0.1.0"

# bitsandbytes warns, on CPUs with AVX512-BF16, that it could not fetch an optional kernel from the
# Hub and asks for `pip install kernels`: a line above every CLI answer, and a download an offline
# learner cannot make. The app does not need that kernel. Its other warnings still show.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
