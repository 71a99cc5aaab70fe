"""Bank versions: the shipped banks are synced at start-up (new or changed files only), an
instructor's own version is never overridden, and saving an unchanged bank adds no version."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.quiz_bank import BANK
from tutor.quiz import versions
from tutor.quiz.bank import dump_bank_yaml
from tutor.store import open_store


@pytest.fixture
def store(database_url: str):
    store = open_store(database_url)
    yield store
    store.close()


def test_shipped_banks_are_published_once_and_again_when_changed(store, tmp_path: Path) -> None:
    shipped = tmp_path / "module3.yaml"
    shipped.write_text(dump_bank_yaml(BANK), encoding="utf-8")
    assert versions.sync_shipped_banks(store, tmp_path) == ["published module3 v1 from module3.yaml"]
    assert versions.sync_shipped_banks(store, tmp_path) == []
    changed = BANK.model_copy(deep=True)
    changed.questions[0].stem = "Reworded stem"
    shipped.write_text(dump_bank_yaml(changed), encoding="utf-8")
    assert versions.sync_shipped_banks(store, tmp_path) == ["published module3 v2 from module3.yaml"]
    assert [(v.version, v.published) for v in versions.list_all(store)] == [(1, False), (2, True)]
    assert versions.find_quiz(store, "lesson-1")[1].questions[0].stem == "Reworded stem"


def test_an_instructors_version_is_not_overridden_by_the_shipped_file(store, tmp_path: Path) -> None:
    own = BANK.model_copy(deep=True)
    own.title = "Our own module 3"
    versions.publish(store, versions.save(store, own, "uploaded.yaml").id)
    (tmp_path / "module3.yaml").write_text(dump_bank_yaml(BANK), encoding="utf-8")
    assert versions.sync_shipped_banks(store, tmp_path) == []
    newest = versions.newest(store, "module3")
    assert newest is not None and versions.bank_of(newest).title == "Our own module 3"
    assert versions.newest(store, "no-such-bank") is None
