"""The four advisor labs. Each module has a LAB description and ``analyse(request)``, which turns
the learner's text and files into a typed Recommendation using rules written from the course."""

from __future__ import annotations

from types import ModuleType

from tutor.advisors import dataset, evaluation, hyperparams, strategy
from tutor.advisors.base import AdvisorInputError, AdvisorRequest, LabInfo, Recommendation

ADVISORS: dict[str, ModuleType] = {
    "strategy": strategy,
    "dataset": dataset,
    "hyperparams": hyperparams,
    "eval": evaluation,
}
LABS: list[LabInfo] = [module.LAB for module in ADVISORS.values()]

__all__ = ["ADVISORS", "LABS", "AdvisorInputError", "AdvisorRequest", "LabInfo", "Recommendation"]
