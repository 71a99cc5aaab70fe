"""Core: who is asking, lesson status, the start-up checks, and the role checks of quiz banks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_settings
from tutor import accounts
from tutor.core import AccessError, Core, StartupError


def test_single_mode_uses_one_local_learner(core: Core) -> None:
    first, second = core.viewer(None), core.viewer("someone-else")
    assert first == second and first.username == "learner" and first.role == "learner"


def test_class_mode_needs_a_known_signed_in_user(tmp_path: Path, database_url: str) -> None:
    core = Core.start(make_settings(tmp_path, database_url=database_url, mode="class"))
    with pytest.raises(AccessError, match="sign in"):
        core.viewer(None)
    with pytest.raises(AccessError, match="unknown user"):
        core.viewer("ghost")
    accounts.add_user(core.store, "grace", "correct horse", "instructor")
    assert core.viewer("grace").is_instructor
    core.store.close()


def test_lesson_statuses_follow_completion(core: Core) -> None:
    viewer = core.viewer(None)
    core.mark_complete(viewer, "training-data")
    statuses = {s.id: s for s in core.lesson_statuses(viewer)}
    assert statuses["training-data"].done and not statuses["what-is-fine-tuning"].done
    assert [s.order for s in statuses.values()] == [1, 2, 3, 4]


def test_unknown_or_non_lesson_ids_are_refused_before_writing(core: Core) -> None:
    viewer = core.viewer(None)
    with pytest.raises(KeyError):
        core.mark_complete(viewer, "no-such-lesson")
    with pytest.raises(KeyError):
        core.mark_complete(viewer, "peft-methods")  # a reference page is not a lesson
    assert not any(s.done for s in core.lesson_statuses(viewer))


def test_neighbours_are_clamped(core: Core) -> None:
    assert core.neighbour("what-is-fine-tuning", -1) == "what-is-fine-tuning"
    assert core.neighbour("what-is-fine-tuning", +1) == "training-data"
    assert core.neighbour("evaluation-deployment", +1) == "evaluation-deployment"


def test_start_reports_unreachable_database_in_one_line(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url="postgresql+psycopg://u:pw@127.0.0.1:1/x")
    with pytest.raises(StartupError, match=r"^cannot open database .*Connection refused$"):
        Core.start(settings)


def test_start_reports_broken_content(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "bad.md").write_text("no front matter\n")
    with pytest.raises(StartupError, match=r"course content: .*bad.md:1: missing front matter"):
        Core.start(make_settings(tmp_path, lessons_dir=lessons))


def test_instructor_quiz_operations_check_the_role_and_the_operator_may(core: Core) -> None:
    learner = core.viewer(None)
    for call in (lambda v: core.bank_versions(v), lambda v: core.newest_bank(v, "module3")):
        with pytest.raises(AccessError, match="only instructors"):
            call(learner)
    operator = core.operator()
    published = core.bank_versions(operator, published_only=True)
    assert [(version.bank_id, version.version) for version, _bank in published] == [("module3", 1)]
    bank = core.newest_bank(operator, "module3")
    assert bank is not None and core.newest_bank(operator, "nope") is None
    edited = bank.model_copy(update={"title": "Edited by the operator"})
    version = core.save_bank(operator, edited, "edited.yaml", publish=True)
    assert (version.version, version.created_by) == (2, None)
    [(now_published, now_bank)] = core.bank_versions(operator, published_only=True)
    assert now_published.version == 2 and now_bank.title == "Edited by the operator"
