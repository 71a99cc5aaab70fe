"""Lab 1: should this use case be prompted, retrieved, fine-tuned (or trained from scratch),
with which method, and on how much data? Rules from Lesson 1's decision framework, the
adaptation-spectrum reference page and Lesson 2's data-volume table."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tutor.advisors import facts
from tutor.advisors.base import AdvisorRequest, LabInfo, Recommendation, table

LAB = LabInfo(
    id="strategy",
    number=1,
    title="Fine-Tuning Strategy Advisor",
    lesson_id="what-is-fine-tuning",
    intro="Describe your use case. The advisor checks whether fine-tuning is the right tool, which method "
    "fits and how much data you would need.",
    tasks=(
        "Describe the task you want to fine-tune for: domain, format requirements, scale.",
        "Ask how fine-tuning, prompting and RAG compare for your case.",
        "Ask which method (SFT with LoRA or QLoRA, full fine-tuning, DPO) fits your constraints.",
        "Ask how much training data you would realistically need.",
    ),
    try_prompt="I want a model that always outputs clinical SOAP notes in a strict JSON format from free-text "
    "doctor dictation. We process 50,000 notes per day. Is fine-tuning worth it?",
    opening="Welcome! I'm the strategy advisor for this lab. Tell me what you want a model to do and how you "
    "do it today. I'll weigh prompting, retrieval and fine-tuning for your case, and if fine-tuning wins, "
    "which method suits your constraints and how much data it takes.",
)

Approach = Literal["prompting", "rag", "fine-tuning", "train-from-scratch"]
Method = Literal["none", "lora", "qlora", "full", "dpo"]
Goal = Literal["style", "task-format", "domain-knowledge", "preference"]

# Lesson 2, "How much data do you need?"
DATA_RANGES: dict[str, tuple[int, int | None, str]] = {
    "style": (50, 500, "style or tone: the model already can, you only shift its preferences"),
    "task-format": (500, 5_000, "a new task format: enough variety to generalise across inputs"),
    "domain-knowledge": (10_000, 100_000, "deep domain expertise the model does not have"),
    "preference": (1_000, 20_000, "preference pairs (prompt, chosen answer, rejected answer) for DPO"),
}


class DataNeed(BaseModel):
    goal: Goal
    min_examples: int
    max_examples: int | None = Field(description="None: no upper bound ('100,000+').")
    unit: str = "examples"
    why: str
    have: int | None = Field(None, description="Examples the learner said they have.")


class StrategyRecommendation(Recommendation):
    lab: str = "strategy"
    approach: list[Approach] = Field(description="What to build, in the order to try it.")
    method: Method
    data_needed: DataNeed
    reasons: list[str]
    risks: list[str]
    facts: dict[str, str | int | bool | None] = Field(default_factory=dict, description="What was read from the text.")

    def facts_for_prompt(self) -> list[str]:
        lines = [f"Approach: {' + '.join(self.approach)}", f"Method: {self.method}"]
        need = self.data_needed
        upper = f"{need.max_examples:,}" if need.max_examples else "100,000+"
        lines.append(f"Data needed: {need.min_examples:,} to {upper} {need.unit} ({need.why})")
        lines += [f"Reason: {reason}" for reason in self.reasons[:3]]
        lines += [f"Risk: {risk}" for risk in self.risks[:2]]
        return lines

    def markdown(self) -> str:
        need = self.data_needed
        upper = f"{need.max_examples:,}" if need.max_examples else "100,000+"
        data = f"{need.min_examples:,}–{upper} {need.unit}" + (f" (you have {need.have:,})" if need.have else "")
        if self.method == "none":
            data = f"none to train now; a few dozen test cases to measure prompts (if you fine-tune later: {data})"
        rows = [
            ("Approach", " → ".join(self.approach)),
            (
                "Method",
                {
                    "none": "no fine-tuning",
                    "lora": "SFT with LoRA",
                    "qlora": "SFT with QLoRA (4-bit base)",
                    "full": "full fine-tuning",
                    "dpo": "SFT with LoRA, then DPO on preference pairs",
                }[self.method],
            ),
            ("Data needed", data),
        ]
        parts = ["**Recommendation**", table(rows, ("", ""))]
        parts.append("**Why**\n" + "\n".join(f"- {r}" for r in self.reasons))
        parts.append("**Risks to plan for**\n" + "\n".join(f"- {r}" for r in self.risks))
        if self.notes:
            parts.append("**Assumptions**\n" + "\n".join(f"- {n}" for n in self.notes))
        return "\n\n".join(parts)

    def retrieval_query(self, text: str) -> str:
        return f"{text}\nwhen to fine-tune versus prompting or RAG; {self.method} method; how much data"


def analyse(request: AdvisorRequest) -> StrategyRecommendation:
    text = request.all_text
    volume = facts.daily_volume(text)
    have = facts.example_count(text)
    strict_format = facts.has_any(
        text, "json", "schema", "strict", "format", "structured", "always", "xml", "sql", "template", "layout"
    )
    vocabulary = facts.has_any(
        text,
        "jargon",
        "terminology",
        "vocabulary",
        "domain",
        "clinical",
        "medical",
        "legal",
        "radiology",
        "financ\\w*",
        "soap",
    )
    changing = facts.has_any(
        text,
        "changes? (?:often|daily|weekly|every \\w+)",
        "up-to-date",
        "latest",
        "current",
        "catalog(?:ue)?",
        "inventory",
        "prices?",
        "news",
        "recent",
        "documentation",
        "faq",
        "knowledge base",
        "policies",
        "docs",
    )
    knowledge_qa = facts.has_any(
        text, "answer questions about", "questions about", "look up", "search", "catalog(?:ue)?", "faq"
    )
    private = facts.has_any(
        text,
        "private",
        "confidential",
        "hipaa",
        "gdpr",
        "patients?",
        "pii",
        "sensitive",
        "on-prem\\w*",
        "clinical",
        "medical records?",
        "proprietary",
    )
    behaviour = facts.has_any(text, "persona", "tone", "voice", "style", "refuse", "policy", "concise", "brand")
    preference = facts.has_any(
        text,
        "preferences?",
        "preferred",
        "chosen",
        "rejected",
        "rank\\w*",
        "better of two",
        "which answer is better",
        "dpo",
    )
    low_budget = facts.has_any(
        text,
        "small budget",
        "cheap",
        "low budget",
        "limited budget",
        "consumer gpu",
        "single gpu",
        "colab",
        "laptop",
        "gaming",
    )
    from_scratch = facts.has_any(text, "from scratch", "pre-?train\\w*", "our own foundation model")
    already_works = facts.has_any(
        text, "prompting works", "base model (?:already )?(?:does|works|handles)", "works well with prompting"
    )

    rec_facts = {
        "daily_volume": volume,
        "examples_on_hand": have,
        "strict_format": strict_format,
        "domain_vocabulary": vocabulary,
        "knowledge_changes": changing,
        "private_data": private,
        "behaviour": behaviour,
        "preference_data": preference,
        "low_budget": low_budget,
    }
    reasons: list[str] = []
    risks: list[str] = []
    notes: list[str] = []
    rec_cites: list[tuple[str, str, str]] = []

    high_volume = volume is not None and volume >= 10_000
    low_volume = volume is not None and volume < 1_000
    fine_tune_signals = []
    if strict_format:
        fine_tune_signals.append("format")
        reasons.append(
            "The output format must never vary: prompting gets it right most of the time, "
            "fine-tuning makes it the model's habit."
        )
    if high_volume:
        fine_tune_signals.append("volume")
        reasons.append(
            f"At about {volume:,} requests a day, a small fine-tuned model (a tuned 7B can beat a "
            "prompted 70B on a narrow task) costs a fraction per call."
        )
    if vocabulary:
        fine_tune_signals.append("vocabulary")
        reasons.append("Specialist vocabulary: training shifts the model towards the field's usage.")
    if private:
        fine_tune_signals.append("privacy")
        reasons.append(
            "Private data can train a model you host yourself instead of travelling in prompts to an external API."
        )
    if behaviour:
        fine_tune_signals.append("behaviour")
        reasons.append("Behaviour needed every time (tone, persona, refusals) is what fine-tuning makes reliable.")
    rec_cites.append(
        (
            "what-is-fine-tuning",
            "the-decision-framework-when-is-fine-tuning-the-right-tool",
            "when fine-tuning is the right tool",
        )
    )

    approach: list[str]
    if from_scratch:
        notes.append(
            "Training from scratch is only for organisations with huge data and budgets "
            "(BloombergGPT); fine-tuned open models matched it for about 1% of the cost."
        )
        rec_cites.append(
            (
                "what-is-fine-tuning",
                "case-study-bloomberggpt-revisited-2023",
                "fine-tuning an open model instead of training from scratch",
            )
        )
    if already_works:
        approach = ["prompting"]
        reasons.insert(0, "The base model already does the job: keep prompting, and measure where it fails.")
    elif have is not None and have < 100 and not fine_tune_signals:
        approach = ["prompting"]
        reasons.insert(
            0, f"With {have} examples, few-shot prompting beats fine-tuning (below about 100 it is rarely worth it)."
        )
    elif fine_tune_signals and not (low_volume and fine_tune_signals == ["format"]):
        approach = ["prompting", "fine-tuning"]
        if changing or knowledge_qa:
            approach = ["prompting", "rag", "fine-tuning"]
    elif changing or knowledge_qa:
        approach = ["prompting", "rag"]
    else:
        approach = ["prompting"]
        reasons.append("Nothing in the description needs fine-tuning yet: start with a good prompt and measure.")
    if changing or knowledge_qa:
        reasons.append(
            "Knowledge that changes (catalogues, prices, documents) belongs in retrieval (RAG), "
            "not in weights, or the model goes stale."
        )
        rec_cites.append(("adaptation-spectrum", "when-not-to-fine-tune", "changing knowledge goes to RAG"))
    if low_volume:
        reasons.append(f"At about {volume:,} requests a day, volume alone does not pay for fine-tuning.")
    if "fine-tuning" in approach:
        reasons.append("Try the strong prompt first anyway: it is the baseline your fine-tuned model must beat.")

    # Method
    method = "none"
    if "fine-tuning" in approach:
        if preference:
            method = "dpo"
            reasons.append(
                "You can say which of two answers is better: DPO learns from chosen/rejected pairs "
                "with no separate reward model."
            )
            rec_cites.append(("what-is-fine-tuning", "the-kinds-of-fine-tuning-you-will-meet", "SFT, RLHF and DPO"))
        elif low_budget:
            method = "qlora"
            reasons.append("QLoRA loads the base in 4-bit: a 7B model trains in about 10–16 GB, one consumer GPU.")
            rec_cites.append(("peft-methods", "qlora-quantization-plus-lora", "QLoRA memory"))
        elif facts.has_any(text, "full fine-?tun\\w*") and (have or 0) >= 100_000:
            method = "full"
        else:
            method = "lora"
            reasons.append(
                "LoRA trains a few million adapter weights on a frozen base: cheap, fast, "
                "swappable, and it avoids most forgetting."
            )
            rec_cites.append(("peft-methods", "what-lora-buys-you", "why LoRA"))

    # Data needed (Lesson 2's table)
    if preference:
        goal = "preference"
    elif vocabulary and facts.has_any(text, "expert\\w*", "subspecialt\\w*", "rare languages?", "deep", "knowledge"):
        goal = "domain-knowledge"
    elif strict_format or facts.has_any(text, "extract\\w*", "classif\\w*", "label\\w*", "json"):
        goal = "task-format"
    elif behaviour:
        goal = "style"
    else:
        goal = "task-format"
    low, high, why = DATA_RANGES[goal]
    need = DataNeed(
        goal=goal,
        min_examples=low,
        max_examples=high if goal != "domain-knowledge" else None,
        unit="preference pairs" if goal == "preference" else "examples",
        why=why,
        have=have,
    )
    rec_cites.append(("training-data", "how-much-data-do-you-need", "how much data"))
    if have is not None and have < low and "fine-tuning" in approach:
        notes.append(
            f"You have {have:,}; plan to reach {low:,}+ (curate or generate with a teacher model, "
            "then review a sample by hand)."
        )
    if have is None:
        notes.append("You did not say how many examples you have; the range above is what the task needs.")

    # Risks
    if "fine-tuning" in approach:
        risks.append(
            "Forgetting: full fine-tuning on narrow data can erode general skills; LoRA keeps the base "
            "frozen, and mixing in general data helps."
        )
        risks.append(
            "Safety: about 100 harmful examples were enough to weaken LLaMA's guardrails (Shadow "
            "Alignment); red-team the tuned model and check it still refuses what the base refused."
        )
        rec_cites.append(("safety-evaluation", "fine-tuning-can-undo-safety-training", "safety risk"))
        rec_cites.append(("adaptation-spectrum", "two-risks-to-know", "forgetting and overfitting"))
    if changing or "fine-tuning" in approach:
        risks.append(
            "Staleness: a tuned model is a snapshot of one base model at one time; keep changing facts "
            "in retrieval and revalidate every 30–90 days."
        )
        rec_cites.append(("safety-evaluation", "fine-tuned-models-have-a-shelf-life", "staleness"))
    if private:
        risks.append(
            "Private data: strip or mask personal identifiers before training; a model can repeat what it saw."
        )
    if not risks:
        risks.append("Prompts drift as models update: keep a small test set and rerun it when the model changes.")

    recommendation = StrategyRecommendation(
        approach=approach,
        method=method,
        data_needed=need,
        reasons=reasons,
        risks=risks,
        facts=rec_facts,
        notes=notes,
    )
    for page_id, anchor, why in rec_cites:
        recommendation.cite(page_id, anchor, why)
    return recommendation
