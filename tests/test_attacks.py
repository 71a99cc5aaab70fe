"""Issue 15's acceptance: a hostile learner's script against a served class-mode app. Every attack
of bench/attack_class.py is refused, nothing planted leaks, and another learner's quiz submits
keep working meanwhile. (The times are the benchmark's job: bench/attack_class.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.attack_class import SECRET, Attacks, Target, Victim, plant_secret
from tests.conftest import advisor_settings, free_port, serve
from tutor import accounts
from tutor.core import Core

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture
def target(tmp_path: Path, shared_data_dir: Path) -> Iterator[Target]:
    core = Core.start(advisor_settings(tmp_path, shared_data_dir, port=free_port(), mode="class"))
    accounts.add_user(core.store, "mallory", "mallory-password", "learner")
    accounts.add_user(core.store, "ada", "ada-password", "learner")
    for url in serve(core):
        yield Target(url, ("mallory", "mallory-password"), ("ada", "ada-password"), plant_secret(tmp_path))


def test_every_attack_is_refused_and_nothing_leaks(target: Target) -> None:
    victim = Victim(target.url, target.victim)
    victim.start()
    try:
        outcomes = Attacks(target).run()
    finally:
        victim.stop.set()
        victim.join(timeout=60)
    assert {o.item for o in outcomes} == {1, 2, 3, 5, 6, 7}  # 4 is a start-up refusal (test_settings)
    not_refused = [(o.attack, o.detail) for o in outcomes if not o.refused]
    assert not_refused == []
    assert [(o.attack, o.leaked) for o in outcomes if o.leaked] == []
    assert SECRET not in repr(outcomes)
    assert victim.times and not victim.errors, victim.errors  # the class went on meanwhile
