"""Progress events and the divergence watchdog, driven with plain values."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from trainer.callbacks import ProgressCallback
from trainer.progress import EventLog, format_event, read_events, summarise
from trainer.report import loss_svg, smooth


class Counter:
    tokens_seen = 0


def callback(tmp_path, factor: float = 5.0):
    cb = ProgressCallback(
        EventLog(tmp_path / "log.jsonl", echo=False), Counter(), "cpu", watchdog_factor=factor, stop=threading.Event()
    )
    state = SimpleNamespace(global_step=0, max_steps=10, epoch=0.0)
    cb.on_train_begin(None, state, None)
    return cb, state


def feed(cb, state, losses):
    control = SimpleNamespace(should_training_stop=False, should_save=False)
    for loss in losses:
        state.global_step += 1
        cb.on_log(None, state, control, logs={"loss": loss, "learning_rate": 1e-4})
    return control


def test_nan_loss_stops_at_once(tmp_path):
    cb, state = callback(tmp_path)
    control = feed(cb, state, [2.0, float("nan")])
    assert control.should_training_stop and "nan" in cb.diverged


def test_exploding_loss_stops_after_three_high_steps(tmp_path):
    cb, state = callback(tmp_path, factor=5.0)
    control = feed(cb, state, [2.0, 11.0, 12.0, 3.0, 11.0, 12.0])
    assert not control.should_training_stop  # a spike that recovers is fine
    control = feed(cb, state, [13.0])
    assert control.should_training_stop and "5x its starting value" in cb.diverged


def test_stop_request_saves_a_checkpoint_first(tmp_path):
    cb, state = callback(tmp_path)
    cb.stop.set()
    control = SimpleNamespace(should_training_stop=False, should_save=False)
    cb.on_step_end(None, state, control)
    assert control.should_save and control.should_training_stop and cb.stopped


def test_log_survives_a_cut_last_line(tmp_path):
    log = EventLog(tmp_path / "log.jsonl", echo=False)
    log.write("step", step=1, max_steps=2, loss=1.0, lr=1e-4, tokens_per_s=10.0, eta_s=5.0, memory_mb=100.0)
    with (tmp_path / "log.jsonl").open("a") as out:
        out.write('{"event": "step", "step": 2, "lo')  # killed mid-write
    events = read_events(tmp_path / "log.jsonl")
    assert [e["step"] for e in events] == [1]
    assert format_event(events[0]) == "step 1/2  loss 1.0000  lr 1.00e-04  10 tok/s  eta 5s  mem 100 MB"


def test_summary_keeps_the_last_finite_step_the_resumed_values_and_the_outcome():
    def step(n, loss, rate, memory):
        return {"event": "step", "step": n, "max_steps": 4, "loss": loss, "tokens_per_s": rate, "memory_mb": memory}

    events = [
        {"event": "phase", "phase": "train"},
        step(1, 2.0, 10.0, 100.0),
        step(2, 1.5, 12.0, 120.0),
        {"event": "eval", "step": 2, "eval_loss": 1.4},
        step(2, 1.2, 11.5, 110.0),  # resumed from the checkpoint at step 1: step 2 again
        step(3, "nan", 11.0, 130.0),
        {"event": "diverged", "message": "the loss became nan"},
    ]
    progress = summarise(events)
    assert progress.phase == "train" and (progress.step, progress.max_steps) == (2, 4)
    assert progress.tokens_per_s == 11.5 and progress.memory_mb == 110.0
    assert progress.loss == [(1, 2.0), (2, 1.2)] and progress.validation == [(2, 1.4)]
    assert progress.speeds == [10.0, 12.0, 11.5, 11.0] and progress.peak_memory_mb == 130.0
    assert (progress.outcome, progress.message) == ("diverged", "the loss became nan")
    assert summarise([]).outcome == "" and summarise([]).step == 0


def test_smoothing_and_chart():
    assert smooth([1.0, 1.0, 1.0]) == pytest.approx([1.0, 1.0, 1.0])  # debiased: no ramp up from zero
    values = smooth([4.0, 0.0, 0.0, 0.0])
    assert values[0] == 4.0 and values[1] < 4.0 and values == sorted(values, reverse=True)
    svg = loss_svg(
        summarise(
            [{"event": "step", "step": s, "loss": 1.0 / s} for s in range(1, 5)]
            + [{"event": "eval", "step": 4, "eval_loss": 0.3}]
        )
    )
    assert svg.count("<polyline") == 2 and "<circle" in svg


def test_repeated_sigterm_keeps_the_graceful_stop(tmp_path, monkeypatch):
    """A second SIGTERM must not turn the checkpoint-then-stop into an abrupt exit."""
    import signal

    from trainer import command

    handlers, reached = {}, []
    monkeypatch.setattr(command.signal, "signal", lambda signum, handler: handlers.setdefault(signum, handler))

    def fake_train(config, **kwargs):
        handlers[signal.SIGTERM](signal.SIGTERM, None)
        handlers[signal.SIGTERM](signal.SIGTERM, None)  # e.g. the server's death signal, then a kill
        assert kwargs["stop"].is_set()
        reached.append("after two SIGTERMs")
        handlers[signal.SIGINT](signal.SIGINT, None)  # a Ctrl-C after a stop request: now
        raise AssertionError("not reached")

    monkeypatch.setattr(command, "train", fake_train)
    config = tmp_path / "c.yaml"
    config.write_text(f"training:\n  output_dir: {tmp_path / 'run'}\n", encoding="utf-8")
    code = command.run_train_command(str(config), max_steps=None, output_dir=None, resume=False, models_dir=tmp_path)
    assert code == command.EXIT_STOPPED and reached == ["after two SIGTERMs"]
    assert read_events(tmp_path / "run" / "progress.jsonl")[-1]["event"] == "stopped"


def test_readers_of_the_log_do_not_import_the_training_stack() -> None:
    """The web app's lab, the run queue and the report read the event log; importing them must not
    pull in transformers' Trainer machinery (peft, bitsandbytes: ~10 s on two cores, once paid on
    a learner's first visit to the lab)."""
    import subprocess
    import sys

    code = (
        "import sys, tutor.training_lab, trainer.runs, trainer.report, trainer.train; "
        "print(sorted(m for m in ('transformers', 'peft', 'bitsandbytes') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
