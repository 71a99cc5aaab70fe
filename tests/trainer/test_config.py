"""Configs: the shipped ones load, bad ones are rejected with the file, line and field."""

from __future__ import annotations

import time

import pytest

from trainer.config import CONFIG_DIR, ConfigError, TrainConfig, field_help, load_config, parse_config


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path):
    config = load_config(path)
    assert config.training.output_dir.startswith(("var/runs/", "var/advisor/"))  # ignored by git


def test_gpu_configs_are_qlora_and_cpu_default_is_not():
    assert load_config(CONFIG_DIR / "sentiment-gpu.yaml").model.quantization == "4bit"
    assert load_config(CONFIG_DIR / "sentiment-cpu.yaml").model.quantization == "none"


def test_round_trip_through_yaml():
    config = TrainConfig()
    config.lora.r = 32
    assert parse_config(config.to_yaml()) == config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("training:\n  learning_rate: -0.1\n", "cfg.yaml:2: training.learning_rate: Input should be greater than 0"),
        ("training:\n  batch_size: many\n", "cfg.yaml:2: training.batch_size:"),
        ("lora:\n  r: 0\n", "cfg.yaml:2: lora.r: Input should be greater than or equal to 1"),
        ("training:\n  epocs: 3\n", "cfg.yaml:2: training.epocs: unknown field"),
        ("model:\n  quantization: 3bit\n", "cfg.yaml:2: model.quantization: Input should be 'none' or '4bit'"),
        ("data:\n  task: translation\n", "cfg.yaml:2: data.task:"),
        ("data:\n  val_fraction: 0.45\n  test_fraction: 0.45\n", "cfg.yaml:1: data: val_fraction + test_fraction"),
        ("training:\n  eval_steps: 20\n  save_steps: 30\n", "cfg.yaml:1: training: save_steps must be a multiple"),
        ("- just\n- a list\n", "cfg.yaml:1: the config must be a mapping"),
        ("training: [unclosed\n", "cfg.yaml:2: not valid YAML"),
    ],
)
def test_bad_configs_name_the_line_and_field(text, expected):
    with pytest.raises(ConfigError) as error:
        parse_config(text, "cfg.yaml")
    assert str(error.value).startswith(expected), str(error.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as error:
        parse_config("lora:\n  r: 0\ntraining:\n  batch_size: 0\n", "cfg.yaml")
    assert str(error.value).splitlines()[0].startswith("cfg.yaml:2: lora.r")
    assert str(error.value).splitlines()[1].startswith("cfg.yaml:4: training.batch_size")


def test_missing_file_points_to_the_shipped_ones(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


def test_every_field_has_help():
    rows = field_help()
    assert len(rows) > 30
    assert all(len(text) > 15 for _, _, text in rows), [name for name, _, text in rows if len(text) <= 15]


def test_a_yaml_bomb_or_a_huge_config_is_refused_at_once():
    """Issue 15, item 3: nine aliased lists expand to 10^9 items, which validation and its error
    message walked for minutes while the server waited."""
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    bomb += "training:\n  learning_rate: *i\n"
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"^lab\.yaml:1: YAML anchors and aliases .* are not allowed here$"):
        parse_config(bomb, "lab.yaml")
    with pytest.raises(ConfigError, match=r"^lab\.yaml: 20,001 characters; a run config is at most 20,000$"):
        parse_config("#" * 20_001, "lab.yaml")
    assert time.perf_counter() - started < 1.0
    with pytest.raises(ConfigError) as caught:  # a long wrong value is cut in the message
        parse_config(f"training:\n  learning_rate: '{'9' * 500}x'\n", "lab.yaml")
    assert len(str(caught.value)) < 300
