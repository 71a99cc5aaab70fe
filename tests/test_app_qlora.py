"""The QLoRA lab through the running app (gradio_client): start, watch, compare, export."""

from __future__ import annotations

import time
import zipfile

import pytest

from tests.conftest import advisor_settings, app_client, free_port, serve
from tests.trainer.conftest import tiny_run
from tutor.core import Core

# Real training processes: a minute or two each on an idle 2-core machine, several times that on
# a busy shared one (CI). The 300 s default is for hangs in ordinary tests.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def app_url(tmp_path, shared_data_dir):
    core = Core.start(advisor_settings(tmp_path, shared_data_dir, port=free_port()))
    yield from serve(core)


def test_lab_trains_compares_and_exports(app_url):
    client = app_client(app_url)
    with pytest.raises(Exception, match=r"training\.learning_rate"):
        client.predict("training:\n  learning_rate: -1\n", api_name="/qlora_start")
    run_id = client.predict(tiny_run(steps=4), api_name="/qlora_start")
    with pytest.raises(Exception, match="already have a run"):
        client.predict(tiny_run(steps=4), api_name="/qlora_start")
    deadline = time.monotonic() + 500
    while (status := client.predict(run_id, api_name="/qlora_status"))["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(1)
    assert status["status"] == "done", status
    assert status["step"] == 4 and status["metrics"]["after"]["metric"] == "accuracy"

    base, tuned = client.predict(run_id, "Operating profit fell 40% and jobs were cut.", api_name="/qlora_compare")
    assert isinstance(base, str) and isinstance(tuned, str) and tuned
    archive = client.predict(run_id, "adapter", api_name="/qlora_export")
    with zipfile.ZipFile(archive) as zipped:
        assert {"adapter_config.json", "adapter_model.safetensors"} <= set(zipped.namelist())
    with pytest.raises(Exception, match="unknown export"):
        client.predict(run_id, "gguf-q2", api_name="/qlora_export")
