"""llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`), started the way the app loads
its own llama.cpp models: on a CPU with AMX, without the extra buffer types whose kernels segfault
(see ``skip_crashing_cpu_kernels``). Same arguments: ``python -m tutor.llm.llamacpp_server --model …``."""

import runpy

from tutor.llm.llamacpp_backend import skip_crashing_cpu_kernels

if __name__ == "__main__":
    skip_crashing_cpu_kernels()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
