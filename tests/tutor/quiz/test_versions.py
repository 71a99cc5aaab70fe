"""Bank versions: the shipped banks are synced at start-up (new or changed files only), an
instructor's own version is never overridden, and saving an unchanged bank adds no version."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.quiz_bank import BANK
from tutor.quiz import versions
from tutor.quiz.bank import Bank, QuizDefinition, dump_bank_yaml
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


def impostor_bank() -> Bank:
    """Another bank whose only quiz takes module3's id ``lesson-1``."""
    question = BANK.questions[0]
    quiz = QuizDefinition(id="lesson-1", title="Impostor quiz", questions=[question.id])
    return Bank(bank="other", title="Other", questions=[question], quizzes=[quiz])


def test_a_quiz_id_of_another_published_bank_is_refused_at_publish(store) -> None:
    """A newcomer published bank `other` with a quiz `lesson-1`: learners saw two lesson-1 quizzes
    and starting the impostor opened module3's. Publishing it is refused; module3 keeps the id."""
    versions.publish(store, versions.save(store, BANK, "module3.yaml").id)
    impostor = versions.save(store, impostor_bank(), "collide.yaml")
    assert versions.quiz_id_conflicts(store, impostor_bank()) == [
        "quiz id 'lesson-1' already belongs to bank module3: give this bank's quiz another id"
    ]
    with pytest.raises(versions.QuizError, match=r"^quiz id 'lesson-1' already belongs to bank module3"):
        versions.publish(store, impostor.id)
    assert [q.title for q in versions.published_quizzes(store) if q.id == "lesson-1"] == [BANK.quiz("lesson-1").title]
    assert [v.bank_id for v in versions.published(store)] == ["module3"]


def test_a_new_version_of_the_same_bank_keeps_its_quiz_ids(store) -> None:
    versions.publish(store, versions.save(store, BANK, "module3.yaml").id)
    changed = BANK.model_copy(deep=True)
    changed.title = "Module 3, revised"
    assert versions.quiz_id_conflicts(store, changed) == []
    assert versions.publish(store, versions.save(store, changed, "module3.yaml").id).version == 2


def test_a_shipped_bank_that_collides_is_stored_but_not_published(store, tmp_path: Path) -> None:
    """Start-up must not fail (nothing could then be fixed): the shipped version waits, unpublished."""
    versions.publish(store, versions.save(store, impostor_bank(), "collide.yaml").id)
    (tmp_path / "module3.yaml").write_text(dump_bank_yaml(BANK), encoding="utf-8")
    assert versions.sync_shipped_banks(store, tmp_path) == [
        "not published module3 v1 from module3.yaml: quiz id 'lesson-1' already belongs to bank other: "
        "give this bank's quiz another id"
    ]
    assert [v.bank_id for v in versions.published(store)] == ["other"]
    assert versions.sync_shipped_banks(store, tmp_path) == []  # stored already: not retried at every start
