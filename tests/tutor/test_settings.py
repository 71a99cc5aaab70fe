"""Settings: file, then environment, then flags; one-line errors naming the setting and its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.settings import PROJECT_ROOT, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _no_local_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where no ./tutor.toml of the developer's can leak into the defaults."""
    monkeypatch.chdir(tmp_path)


def test_defaults_serve_locally_in_single_mode() -> None:
    settings = load_settings(env={})
    assert (settings.mode, settings.host, settings.port) == ("single", "127.0.0.1", 7860)
    assert settings.lessons_dir == PROJECT_ROOT / "lessons"
    assert settings.resolved_database_url == "sqlite:///var/tutor.db"
    assert settings.warm_up and not load_settings(env={"TUTOR_WARM_UP": "false"}).warm_up


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "tutor.toml"
    config.write_text('port = 8000\nhost = "0.0.0.0"\nmode = "class"\n')
    env = {"TUTOR_PORT": "8001", "TUTOR_HOST": "10.0.0.1"}
    settings = load_settings(config, env=env, overrides={"port": 8002, "host": None})
    assert settings.port == 8002  # flag beats environment and file
    assert settings.host == "10.0.0.1"  # environment beats file; a None flag is ignored
    assert settings.mode == "class"  # file beats default


def test_config_file_from_environment_and_tutor_table(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[tutor]\ntitle = "Spring cohort"\n')
    assert load_settings(env={"TUTOR_CONFIG": str(config)}).title == "Spring cohort"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"TUTOR_PORT": "70000"}, "bad setting 'port' (from TUTOR_PORT): Input should be less than or equal to 65535"),
        ({"TUTOR_PORT": "eighty"}, "bad setting 'port' (from TUTOR_PORT)"),
        ({"TUTOR_MODE": "school"}, "bad setting 'mode' (from TUTOR_MODE): Input should be 'single' or 'class'"),
        ({"TUTOR_LESSONS_DIR": "/nowhere"}, "bad setting 'lessons_dir' (from TUTOR_LESSONS_DIR): folder '/nowhere'"),
        (
            {"TUTOR_DATABASE_URL": "not a url"},
            "bad setting 'database_url' (from TUTOR_DATABASE_URL): not a SQLAlchemy URL",
        ),
    ],
)
def test_bad_values_give_one_line_naming_setting_and_source(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env=env)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_bad_flag_is_named_as_a_flag() -> None:
    with pytest.raises(SettingsError, match=r"'port' \(from --port\).*got 0"):
        load_settings(env={}, overrides={"port": 0})


def test_unknown_key_and_broken_toml_name_the_file(tmp_path: Path) -> None:
    config = tmp_path / "tutor.toml"
    config.write_text("prot = 8000\n")
    with pytest.raises(SettingsError, match=r"unknown setting 'prot' in .*tutor.toml"):
        load_settings(config, env={})
    config.write_text("port = \n")
    with pytest.raises(SettingsError, match=r"settings file .*tutor.toml: .*line 1"):
        load_settings(config, env={})
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "missing.toml", env={})


def test_settings_are_frozen() -> None:
    settings = load_settings(env={})
    with pytest.raises(ValueError):
        settings.port = 1  # type: ignore[misc]


def test_a_list_setting_from_the_environment_is_comma_separated() -> None:
    settings = load_settings(env={"TUTOR_LAB_MODELS": "org/model-a, /models/b"})
    assert settings.lab_models == ["org/model-a", "/models/b"]
    assert load_settings(env={}).lab_models == [] and not load_settings(env={}).lab_hub_datasets


def test_single_mode_refuses_an_address_others_reach() -> None:
    with pytest.raises(
        SettingsError, match=r"bad setting 'host' \(from --host\): single mode on 0\.0\.0\.0 lets anyone"
    ):
        load_settings(env={}, overrides={"host": "0.0.0.0"})
    assert load_settings(env={}, overrides={"host": "0.0.0.0", "mode": "class"}).host == "0.0.0.0"
    opened = load_settings(env={"TUTOR_OPEN_SINGLE_MODE": "true"}, overrides={"host": "0.0.0.0"})
    assert opened.open_single_mode and opened.mode == "single"
    assert load_settings(env={}, overrides={"host": "localhost"}).host == "localhost"


def test_the_advisor_adapter_is_on_by_default_for_the_packaged_model_only(tmp_path: Path) -> None:
    shipped = PROJECT_ROOT / "tutor" / "advisors" / "adapter"
    default = load_settings(env={}, overrides={"data_dir": tmp_path})
    assert default.resolved_adapter == (str(shipped) if (shipped / "adapter_config.json").is_file() else "")
    assert load_settings(env={"TUTOR_LLM_ADAPTER": "none"}).resolved_adapter == ""
    # The shipped adapter was trained on the packaged model: another model gets none unless asked.
    assert load_settings(env={"TUTOR_LLM_MODEL": "/models/other"}).resolved_adapter == ""
    assert load_settings(env={"TUTOR_LLM_BACKEND": "llamacpp"}).resolved_adapter == ""
    mine = load_settings(env={"TUTOR_LLM_ADAPTER": str(tmp_path)})
    assert mine.resolved_adapter == str(tmp_path)
