"""Loss-log diagnosis and the evaluation metrics, on small logs and pairs worked out by hand."""

from __future__ import annotations

import json
import math

import pytest

from tutor.advisors import evaluation, hyperparams
from tutor.advisors.base import AdvisorInputError, AdvisorRequest, UploadedFile
from tutor.advisors.loss_log import LogError, diagnose_curve, diagnose_text, parse_log
from tutor.advisors.metrics import MetricsError, pairs_from_files, score, token_f1


def _csv(train: list[float], evals: dict[int, float] | None = None) -> str:
    rows = ["step,loss,eval_loss"]
    for step, loss in enumerate(train, start=1):
        rows.append(f"{step * 10},{loss},{(evals or {}).get(step, '')}")
    return "\n".join(rows)


@pytest.mark.parametrize(
    ("log", "kind"),
    [
        (_csv([2.0, 1.6, 1.3, 1.1, 1.0, 0.9, 0.8, 0.7], {2: 1.5, 4: 1.2, 6: 1.3, 8: 1.45}), "overfitting"),
        (_csv([2.0, 1.5, 1.2, 1.1, 2.5, 3.9]), "divergence"),
        (_csv([2.0, 1.2, 2.1, 1.1, 2.0, 1.2, 2.2, 1.0]), "oscillation"),
        (_csv([2.0, 1.98, 1.97, 1.99, 1.96, 1.97, 1.95, 1.96]), "plateau"),
        (_csv([2.0, 1.8, 1.6, 1.4, 1.2, 1.0, 0.8, 0.6]), "underfitting"),
        (_csv([2.0, 1.2, 0.9, 0.8, 0.75, 0.74, 0.73, 0.73], {4: 0.85, 8: 0.8}), "healthy"),
    ],
)
def test_curve_shapes(log: str, kind: str) -> None:
    assert diagnose_curve(parse_log(log, "log.csv")).kind == kind


def test_trainer_console_output_with_nan_is_divergence() -> None:
    log = "\n".join(
        [
            "{'loss': 1.9, 'grad_norm': 3.1, 'learning_rate': 0.002, 'epoch': 0.1}",
            "  5%|▌  | 10/200 [00:05<01:40]",
            "{'loss': 1.4, 'learning_rate': 0.002, 'epoch': 0.2}",
            "{'loss': nan, 'grad_norm': inf, 'learning_rate': 0.002, 'epoch': 0.3}",
        ]
    )
    diagnosis = diagnose_curve(parse_log(log, "trainer.log"))
    assert diagnosis.kind == "divergence" and "nan" in diagnosis.evidence[0]


def test_trainer_state_json_is_read() -> None:
    history = [{"step": s, "loss": 2.0 - s / 100} for s in range(10, 90, 10)]
    history += [{"step": 40, "eval_loss": 1.7}, {"step": 80, "eval_loss": 1.3}]
    curve = parse_log(json.dumps({"log_history": history}), "trainer_state.json")
    assert len(curve.train) == 8 and curve.eval == [(40.0, 1.7), (80.0, 1.3)]


def test_bad_logs_say_where() -> None:
    with pytest.raises(LogError, match=r"log.csv:1: the CSV header needs a loss"):
        parse_log("step,accuracy\n1,0.5\n2,0.6\n3,0.7", "log.csv")
    with pytest.raises(LogError, match=r"log.csv:3: loss and step must be numbers"):
        parse_log("step,loss\n1,2.0\n2,abc\n3,1.0", "log.csv")
    with pytest.raises(AdvisorInputError, match="need at least 3"):
        hyperparams.analyse(AdvisorRequest(text="7B", files=[UploadedFile("l.jsonl", '{"loss": 1.0}')]))


def test_uploaded_log_diagnosis_through_the_advisor() -> None:
    log = UploadedFile("log.csv", _csv([2.0, 1.6, 1.3, 1.1, 1.0, 0.9, 0.8, 0.7], {2: 1.5, 4: 1.2, 6: 1.3, 8: 1.45}))
    rec = hyperparams.analyse(AdvisorRequest(text="Llama 3 8B, 2,000 examples, RTX 4090", files=[log]))
    assert rec.diagnosis.kind == "overfitting" and rec.diagnosis.source == "log"
    assert "step 40" in rec.diagnosis.evidence[0]


def test_metrics_by_hand() -> None:
    assert token_f1("metformin 500 mg", "metformin 500 mg daily") == pytest.approx(2 * 1 * 0.75 / 1.75)
    report = score(
        [
            ('{"drug": "metformin", "dose": "500 mg"}', '{"drug": "metformin", "dose": "500 mg"}'),
            ('{"drug": "warfarin"}', '{"drug": "warfarin", "dose": "5 mg"}'),
            ("not json", '{"drug": "aspirin", "dose": "81 mg"}'),
        ]
    )
    assert report.pairs == 3
    assert report.exact_match == pytest.approx(1 / 3, abs=1e-4)
    assert report.schema_validity == pytest.approx(1 / 3, abs=1e-4)
    assert 0 < report.rouge_l < 1 and math.isfinite(report.f1)
    assert report.worst[0]["prediction"] == "not json"


def test_prediction_files() -> None:
    one = "\n".join(json.dumps({"prediction": p, "reference": r}) for p, r in [("a b", "a b"), ("c", "d")])
    assert pairs_from_files(("p.jsonl", one)) == [("a b", "a b"), ("c", "d")]
    assert pairs_from_files(("pred.txt", "x\ny\n"), ("ref.txt", "x\nz\n")) == [("x", "x"), ("y", "z")]
    with pytest.raises(MetricsError, match=r"pred\.txt has 2 predictions but ref\.txt has 1"):
        pairs_from_files(("pred.txt", "x\ny\n"), ("ref.txt", "x\n"))
    with pytest.raises(MetricsError, match=r"p.jsonl:2: not valid JSON"):
        pairs_from_files(("p.jsonl", '{"prediction": "a", "reference": "a"}\n{"prediction": '))
    rec = evaluation.analyse(AdvisorRequest(text="sentiment classifier", files=[UploadedFile("p.jsonl", one)]))
    assert rec.metric_results is not None and rec.metric_results.exact_match == 0.5
    assert rec.task_type == "classification"


def test_csv_loss_log_with_a_malformed_row_names_its_line() -> None:
    text = "step,loss\n1,2.0\n2,1.5,9\n3,1.2\n4,1.0\n"
    with pytest.raises(LogError, match=r"^train\.csv:3: more values than header columns$"):
        parse_log(text, "train.csv")


def test_prediction_csv_with_a_header_and_no_rows_is_refused_with_a_message() -> None:
    with pytest.raises(MetricsError, match=r"^preds\.csv: no rows after the header"):
        pairs_from_files(("preds.csv", "prediction,reference\n"))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # A spike told in words is the course's spike ("the learning rate is too high or a batch is
        # corrupt"), not a divergence: it was labelled "divergence" beside the course's spike line.
        ("Why would my loss suddenly spike around step 300?", "spike"),
        ("the training loss spiked once at step 120 and came back down", "spike"),
        ("my loss went to nan after 200 steps", "divergence"),
        ("the loss exploded in the second epoch", "divergence"),
    ],
)
def test_a_described_spike_is_a_spike_and_a_blow_up_a_divergence(text: str, kind: str) -> None:
    diagnosis = diagnose_text(text)
    assert diagnosis is not None and diagnosis.kind == kind and diagnosis.source == "description"
    if kind == "spike":
        assert diagnosis.likely_cause == "the learning rate is too high or a batch is corrupt"
