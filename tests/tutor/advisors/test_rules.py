"""The rule-based recommendations of the four advisors: each seed "Try:" prompt gets the answer
the course gives, and the facts reader understands how people write numbers."""

from __future__ import annotations

import pytest

from tests.tutor.advisors import design_cases
from tutor.advisors import ADVISORS, evaluation, facts, hyperparams, strategy
from tutor.advisors.base import AdvisorRequest
from tutor.content import load_course
from tutor.settings import PROJECT_ROOT


def cited(recommendation) -> set[tuple[str, str]]:
    return {(c.page_id, c.anchor) for c in recommendation.citations}


@pytest.mark.parametrize(
    ("text", "examples", "volume"),
    [
        ("We have 3,000 examples and process 50,000 notes per day.", 3000, 50000),
        ("about 2k labelled pairs; 1.5M calls a month", 2000, 50000),
        ("500 training examples", 500, None),
        ("we get 10 requests per second", None, 864000),
        # Issue 14, item 1: numbers in words, and nouns people count their data in.
        ("We have eight thousand annotated contracts and review thousands of contracts a month.", 8000, None),
        ("Brand voice: forty example emails, about twenty emails a day.", 40, 20),
        ("a few hundred labelled pairs, two million calls a month", 300, 66666),
        ("twenty-five examples so far; a hundred and fifty tickets per day", 25, 150),
        ("12k answered tickets, 3,000 Dutch tickets a day", 12000, 3000),
        ("about two thousand past summaries written by adjusters", 2000, None),
        # Terse notes: a slash for "per", "daily", and a count with its noun left out.
        ("insurer 4,000 claim emails/day, 12 fixed categories, 15k tagged", 15000, 4000),
        ("about 4k emails daily and 2,000 labelled examples", 2000, 4000),
        ("300/day, 8,000 annotated contracts", 8000, 300),
        ("3 requests/sec from 12 users", None, 259200),
        # Examples counted in any noun, known as examples by who made them (bench/strategy_cases_dev2.yaml).
        ("We have 3,200 claim charts our attorneys prepared.", 3200, None),
        ("We have 7,500 findings already classified by auditors.", 7500, None),
        ("We've annotated 3,500 narratives.", 3500, None),
        ("About 14,000 claim forms per week, and 700 of the older ones were already coded by adjusters.", 700, 2000),
        ("I have 1,100 product Q&A pairs.", 1100, None),
        ("~22,000 encounters a day. We have 1.2M encounters coded by our certified coders.", 1200000, 22000),
        # the weekly volume is not the example count
        ("About 2,500 claims staff already filled in by hand, and 4,000 claims a week.", 2500, 571),
        # the count said as a share of what is handled: "answered about 4k of them"
        ("Roughly 900 queries a week; staff have answered about 4k of them already.", 4000, 128),
        # a yearly volume is a small daily one (dev6 and dev8 cases read as "unknown", then fine-tuned)
        ("Agents write about 55,000 listings a year. We have 22k reviewed listings.", 22000, 150),
        ("It's seasonal: roughly 90,000 returns across the year.", None, 246),
        ("~1,500 abstracts per year for our annual meeting. 6k past abstracts.", 6000, 4),
        ("Just one story a night.", None, 1),
        # counts as written in India and much of Europe
        ("approx 1.5 lakh doubts per month. We have 3 lakh doubts solved by our faculty.", 300000, 5000),
        ("Around 6.000 conversations per day. We have 1.200 good conversations selected by the team.", 1200, 6000),
        ("approx. 1.500 complaints are already coded; loss 2.4831 at step 590", 1500, None),
        # an age, a size or a length is no count of examples
        ("Legal publisher, 60 years of case reports. We publish 40 reports a day.", None, 40),
        ("We want to train on our 2 GB of server logs.", None, None),
        # a range of examples is read by its top, never from inside a number
        ("We have 200-300 examples and 5,000-8,000 more coming.", 300, None),
        # a metric with three decimals is no count; "a year ago" and money per month are no volume
        ("We labelled 8,000 tickets a year ago. ~12k invoices/day now, 200 USD/month for infra.", 8000, 12000),
        ("55,000 claims a year come in.", None, 150),
        ("Summarise every call into 3-4 sentences for the CRM. About 500,000 calls a week.", None, 71428),
    ],
)
def test_counts_and_volumes(text: str, examples: int | None, volume: int | None) -> None:
    assert facts.example_count(text) == examples
    assert facts.daily_volume(text) == volume


def test_a_metric_with_three_decimals_is_not_read_as_thousands() -> None:
    metrics = "validation loss is 1.912, accuracy: 0.875"
    assert facts.digits_for_words(metrics) == metrics
    assert facts.digits_for_words("approx. 1.500 complaints") == "approx. 1500 complaints"


@pytest.mark.parametrize(
    ("text", "examples"),
    [
        # where data may go is privacy, not a count of examples: the count stated before it stands
        ("We have 1.2M encounters coded by our coders. HIPAA applies, no data to third parties.", 1_200_000),
        ("We have 2,000 labelled tickets. We don't share data with vendors.", 2000),
        ("We have 2,000 labelled tickets. We do not send data outside the EU.", 2000),
        # and "no data to train on" is still no examples
        ("We have no data to train on.", 0),
        ("We have no labelled data to start from.", 0),
        ("There are no examples to show you yet.", 0),
        ("We haven't got any labelled conversations.", 0),
        ("we don't have much data beyond that", None),
        # a participle near a number that is not a count of examples (from a review of this reader)
        ("Each answer is rated 1 to 5 by an agent.", None),
        ("We have 500 examples, scored 1-5 by annotators.", 500),
        ("Answers are graded 0-10 by experts.", None),
        ("Since 2021 our agents have tagged every ticket.", None),
        ("We have 3 annotators who labelled everything.", None),
        ("We have 900 tickets. Our 4 agents reviewed them.", 900),
        ("We have 12,000 invoices. 3 of our staff verified them.", 12000),
        ("We have 8 A100 GPUs that IT prepared.", None),
        ("It costs $3 to have one reviewed.", None),
        ("We spent $5k getting them annotated.", None),
        ("It takes 3 weeks to get a contract reviewed.", None),
        ("300 emails per day, and 2 people answered them.", None),
        ("We reviewed 300 a day last year.", None),
        ("We have 1,000 pairs; reviewed 40 per hour.", 1000),
        ("We see 2,000 tickets/day and agents tagged them.", None),
        ("We get 4,000 claims each weekday and all are reviewed.", None),
        ("We have 10 years of history to learn from.", None),
        ("We have 20 thousand examples.", 20000),  # was read as 1,000: "thousand" alone became 1000
        ("About 2.5 million rows were labelled.", 2500000),
    ],
)
def test_what_is_not_a_count_of_examples(text: str, examples: int | None) -> None:
    assert facts.examples_on_hand(text) == examples


@pytest.mark.parametrize(
    ("sentence", "counts"),
    [
        ("We have about 1,100 old deeds where a clerk typed the XML by hand.", [1100]),
        ("We have 3 years of his notes, about 150.", [150]),
        ("We have 300k query→rewrite pairs mined from click logs.", [300000]),
        ("Maybe forty or so, and 2.5k more next year.", [40, 2500]),
        ("Accounting practice, 22 staff; 3 of our engineers and 3 editors.", []),
        ("500k requests a day, 9,000 lines a month, 2,000 tickets/day.", []),
        ("Llama 70B or Mistral 7B on one A100 40GB, 8x H100, 24GB.", []),
        ("4-bit, r=16, 128k context, 4096 tokens, a 3-year project.", []),
        ("At 3pm or 10:30, Python 3.11, 100-200 or 100–200 of them.", []),
        ("$ 5000, USD 5,000, 40% of them, in 2019.", []),
    ],
)
def test_numbers_that_can_count_examples(sentence: str, counts: list[int]) -> None:
    """Where no pattern reads the count and the learned reader says the sentence gives one, the
    count is taken from these: whole numbers of things, not models, hardware, money, time, people,
    rates, ranges or shares (a reviewer's list of what a first version took for counts)."""
    assert facts.counts_in(sentence) == counts


@pytest.mark.parametrize(
    ("text", "billions", "gpu_gb", "count"),
    [
        ("Mistral 7B on one A100 40GB", 7.0, 40.0, 1),
        ("llama-3-8b with 2x RTX 4090", 8.0, 24.0, 2),
        ("a 135M model on a T4", 0.135, 16.0, 1),
        ("Llama 70B, one H100", 70.0, 80.0, 1),
        # The memory's digits are not a count: "24GB" had read as 2 GPUs and "80GB" as 8 (a newcomer's
        # "one 24GB GPU" got a config for 2× 24 GB and an effective batch twice the real one).
        ("QLoRA on a 7B model, 2000 examples, one 24GB GPU", 7.0, 24.0, 1),
        ("Mistral 7B, one 80GB GPU", 7.0, 80.0, 1),
        ("Llama 8B on 4 A100 GPUs", 8.0, 80.0, 4),
        ("Llama 8B on two 48GB GPUs", 8.0, 48.0, 2),
    ],
)
def test_models_and_gpus(text: str, billions: float, gpu_gb: float, count: int) -> None:
    assert facts.model_size_billion(text)[1] == pytest.approx(billions)
    _, memory, gpus = facts.gpu(text)
    assert (memory, gpus) == (gpu_gb, count)


def test_every_rule_citation_points_at_an_existing_section() -> None:
    course = load_course(PROJECT_ROOT / "lessons")
    for module in ADVISORS.values():
        recommendation = module.analyse(AdvisorRequest(text=module.LAB.try_prompt))
        assert recommendation.citations, module.LAB.id
        for citation in recommendation.citations:
            page = course.get(citation.page_id)
            assert page is not None and citation.anchor in page.anchors(), citation


def test_strategy_try_prompt_recommends_lora_fine_tuning_with_task_format_data() -> None:
    rec = strategy.analyse(AdvisorRequest(text=strategy.LAB.try_prompt))
    assert rec.approach[-1] == "fine-tuning" and "rag" not in rec.approach
    assert rec.method in ("lora", "qlora")
    assert (rec.data_needed.min_examples, rec.data_needed.max_examples) == (500, 5000)
    assert rec.facts["daily_volume"] == 50000 and rec.facts["strict_format"]
    assert any("50,000" in reason for reason in rec.reasons)
    assert {"Forgetting", "Safety", "Staleness"} <= {risk.split(":")[0] for risk in rec.risks}
    assert ("what-is-fine-tuning", "the-decision-framework-when-is-fine-tuning-the-right-tool") in cited(rec)
    assert ("training-data", "how-much-data-do-you-need") in cited(rec)


@pytest.mark.parametrize(
    ("text", "approach", "method"),
    [
        (
            "A chatbot that answers questions about our course catalogue, which changes every term.",
            ["prompting", "rag"],
            "none",
        ),
        ("We have 40 examples of replies and want the model to summarise emails.", ["prompting"], "none"),
        (
            "Users rank which answer is better; we have 5,000 preference pairs and want a consistent brand voice "
            "at 20,000 chats per day.",
            ["prompting", "fine-tuning"],
            "dpo",
        ),
        (
            "Extract fields as strict JSON at 30k documents a day on a small budget, one consumer GPU.",
            ["prompting", "fine-tuning"],
            "qlora",
        ),
    ],
)
def test_strategy_decisions(text: str, approach: list[str], method: str) -> None:
    rec = strategy.analyse(AdvisorRequest(text=text))
    assert (rec.approach, rec.method) == (approach, method)
    if method == "dpo":
        assert rec.data_needed.unit == "preference pairs" and rec.data_needed.max_examples == 20000


def test_a_prompting_decision_opens_with_its_own_reason_not_a_fine_tuning_signal() -> None:
    rec = strategy.analyse(
        AdvisorRequest(text="We have 30 past replies and the bot must always keep a friendly persona.")
    )
    assert rec.approach == ["prompting"]
    assert "few-shot prompting beats fine-tuning" in rec.reasons[0]
    behaviour = [r for r in rec.reasons if "makes reliable" in r]
    assert behaviour and behaviour[0].startswith(strategy.LATER), rec.reasons
    assert rec.reasons.index(behaviour[0]) == len(rec.reasons) - 1


def test_later_messages_update_the_facts() -> None:
    rec = strategy.analyse(
        AdvisorRequest(
            text="Actually we now have 8,000 examples.", history=["We have 300 examples; strict JSON output."]
        )
    )
    assert rec.data_needed.have == 8000


DENTAL = "I run a small dental clinic and want reminder texts in our friendly tone. We have maybe 300 old messages."


@pytest.mark.parametrize(
    "opening",
    ["Different project now:", "New project:", "Another use case —", "forget that one. something else:"],
)
def test_a_new_project_starts_from_its_own_facts(opening: str) -> None:
    """A newcomer's chat: after the dental clinic's 300 messages, "Different project now: our law
    firm…" was told "style or tone, 50-500 examples (you have 300)"."""
    law_firm = (
        f"{opening} our law firm wants a model that pulls the termination clauses out of supplier contracts, "
        "thousands a month, and the contracts cannot leave our servers."
    )
    request = AdvisorRequest(text=law_firm, history=[DENTAL])
    assert request.all_text == law_firm
    rec = strategy.analyse(request)
    assert rec.data_needed.have != 300 and "300" not in rec.markdown()
    # A later message that adds to the same case still counts what came before.
    assert "300" in AdvisorRequest(text="the texts must fit in 160 characters", history=[DENTAL]).all_text


def test_hyperparams_try_prompt_matches_lesson_3() -> None:
    rec = hyperparams.analyse(AdvisorRequest(text=hyperparams.LAB.try_prompt))
    c = rec.config
    assert 1e-4 <= c.learning_rate <= 2e-4
    assert 8 <= c.r <= 16 and c.alpha == 2 * c.r
    assert 1 <= c.epochs <= 3
    assert 4 <= c.effective_batch_size <= 32
    assert c.effective_batch_size == c.batch_size * c.gradient_accumulation
    assert {"q_proj", "v_proj"} <= set(c.target_modules)
    assert c.quantization == "4bit"
    assert rec.memory.gpu_gb == 40 and rec.memory.fits and rec.memory.total_gb < 16
    assert rec.memory_16bit_gb > rec.memory.total_gb
    assert set(rec.reasons) == set(c.model_dump())
    assert rec.diagnosis is not None and rec.diagnosis.source == "description"
    assert rec.diagnosis.likely_cause.startswith("data/format consistency")
    assert ("hyperparameters-lora", "the-hyperparameters-that-matter") in cited(rec)
    assert ("training-data", "data-quality-checklist") in cited(rec)


def test_hyperparams_memory_rules() -> None:
    roomy = hyperparams.analyse(AdvisorRequest(text="Mistral 7B, 5,000 examples, one A100 80GB, domain adaptation"))
    assert roomy.config.quantization == "none" and roomy.config.r == 16
    too_big = hyperparams.analyse(AdvisorRequest(text="Llama 70B on 2,000 examples with one RTX 4090"))
    assert not too_big.memory.fits and any("larger GPU" in note for note in too_big.notes)
    asked = hyperparams.analyse(AdvisorRequest(text="QLoRA for a 1B model, 800 examples, 24GB card"))
    assert asked.config.quantization == "4bit" and asked.config.epochs == 3


def test_the_advised_config_speaks_the_trainers_language_and_loads_into_the_lab() -> None:
    """Issue 14, item 6: the advice said lora_alpha, num_epochs and max_seq_length where the trainer
    says alpha, epochs and max_length, so it could not be loaded into the QLoRA lab."""
    from trainer.config import TrainConfig, parse_config, shipped_config

    rec = hyperparams.analyse(AdvisorRequest(text=hyperparams.LAB.try_prompt))
    advised = rec.config.model_dump()
    trainer_fields = {
        name for section in TrainConfig.model_fields.values() for name in section.annotation.model_fields
    }
    assert set(advised) - {"effective_batch_size"} <= trainer_fields
    lab_default = shipped_config("sentiment-cpu")
    loaded = parse_config(rec.config.for_lab(lab_default).to_yaml(), "advice")  # a YAML the lab accepts
    assert (loaded.lora.r, loaded.lora.alpha, loaded.lora.dropout) == (
        rec.config.r,
        rec.config.alpha,
        rec.config.dropout,
    )
    assert loaded.lora.target_modules == rec.config.target_modules
    assert loaded.training.learning_rate == rec.config.learning_rate
    # Steps, batch, length and precision stay the lab's, sized for its small model on this machine.
    assert loaded.training.max_steps == lab_default.training.max_steps
    assert loaded.data.max_length == lab_default.data.max_length and loaded.model == lab_default.model


def test_evaluation_try_prompt_is_tailored_to_medication_extraction() -> None:
    rec = evaluation.analyse(AdvisorRequest(text=evaluation.LAB.try_prompt))
    assert rec.task_type == "structured extraction" and rec.domain == "medical" and rec.high_stakes
    names = " ".join(m.name for m in rec.metrics)
    assert "Schema validity" in names and "Exact match" in names
    assert [r.dimension for r in rec.judge_rubric][:3] == ["accuracy", "format", "completeness"]
    assert "{output}" in rec.judge_prompt and "{reference}" in rec.judge_prompt
    cases = " ".join(c.name for c in rec.adversarial_cases)
    assert "mg vs mcg" in cases and "Missing dose" in cases and "Harmful request" in cases
    assert any("MMLU" in b for b in rec.regression_benchmarks)
    assert all(signal.alert_when for signal in rec.monitoring) and rec.revalidate_every_days == 30
    assert ("evaluation-deployment", "llm-as-judge-in-practice") in cited(rec)


def test_strategy_names_what_would_change_the_decision() -> None:
    """Only questions about what the learner did not say: the Try prompt is strict JSON at 50,000 a
    day, so format and volume are settled; changing knowledge and a small GPU are open."""
    from tutor.advisors import strategy
    from tutor.advisors.base import AdvisorRequest

    tuned = strategy.analyse(AdvisorRequest(strategy.LAB.try_prompt))
    assert any("retrieval (RAG)" in p for p in tuned.pivots) and any("QLoRA" in p for p in tuned.pivots)
    assert not any("format never vary" in p or "high volume of requests" in p for p in tuned.pivots)
    catalogue = "A chatbot that answers questions about our weekly-changing catalogue."
    prompted = strategy.analyse(AdvisorRequest(catalogue))
    assert "fine-tuning" not in prompted.approach
    assert any("format never vary" in p for p in prompted.pivots)
    assert "**What would change this**" in prompted.markdown()


@pytest.fixture
def word_rules(monkeypatch) -> None:
    """The evaluation designer without its learned reader (test_eval_reader.py): the word rules it
    falls back on when the embedder or the adapter cannot load."""
    monkeypatch.setattr(evaluation, "eval_reader", lambda: None)


@pytest.mark.parametrize(("text", "task", "domain", "high_stakes"), design_cases.IN_OTHER_WORDS)
def test_evaluation_design_reads_task_domain_and_stakes_in_other_words(
    text: str, task: str, domain: str, high_stakes: bool, word_rules: None
) -> None:
    rec = evaluation.analyse(AdvisorRequest(text=text))
    assert (rec.task_type, rec.domain, rec.high_stakes) == (task, domain, high_stakes)


@pytest.mark.parametrize(("text", "task", "domain", "high_stakes"), design_cases.WORDS_IN_THEIR_SENSE)
def test_evaluation_design_reads_words_in_their_sense(
    text: str, task: str, domain: str, high_stakes: bool, word_rules: None
) -> None:
    rec = evaluation.analyse(AdvisorRequest(text=text))
    assert (rec.task_type, rec.domain, rec.high_stakes) == (task, domain, high_stakes)


def test_pre_training_needs_a_corpus_in_tokens_not_labelled_examples() -> None:
    # Once "Data needed: 500 to 5,000 examples" beside "train from scratch", in the JSON and in the
    # lines a follow-up answer quotes, with "You did not say how many examples you have".
    rec = strategy.analyse(
        AdvisorRequest(
            "we are a big tech company with a $50M budget planning to pre-train our own foundation model on "
            "about 3 trillion tokens of multilingual web text"
        )
    )
    assert rec.approach == ["train-from-scratch"]
    need = rec.data_needed
    assert (need.goal, need.unit, need.min_examples) == ("pre-training", "tokens", 1_000_000_000_000)
    data_line = next(line for line in rec.facts_for_prompt() if line.startswith("Data needed"))
    assert "trillions of tokens" in data_line and "examples" not in data_line.split("(")[0]
    assert not any("how many examples" in note for note in rec.notes)


def test_no_fine_tuning_means_no_training_data_now() -> None:
    rec = strategy.analyse(
        AdvisorRequest(
            "an online shop assistant answering questions about stock; the inventory updates every few hours"
        )
    )
    assert "fine-tuning" not in rec.approach and rec.method == "none"
    data_line = next(line for line in rec.facts_for_prompt() if line.startswith("Data needed"))
    assert data_line.startswith("Data needed: none to train now")


def test_an_evaluation_suite_for_an_unstated_task_says_what_it_assumed() -> None:
    # Once "Task type: classification (general)" for a case that named no task, quoted as a fact
    # about the learner's case in a follow-up answer.
    unsaid = evaluation.analyse(AdvisorRequest("i want to fine tune a 7b model with lora on rented gpus"))
    assert not unsaid.task_stated
    assert any("did not say what the model produces" in note for note in unsaid.notes)
    assert "assumed" in unsaid.facts_for_prompt()[0] and "did not say what the model produces" in unsaid.markdown()
    said = evaluation.analyse(AdvisorRequest(evaluation.LAB.try_prompt))
    assert said.task_stated and "assumed" not in said.facts_for_prompt()[0]


@pytest.mark.parametrize(("text", "task"), design_cases.QUESTION_APPENDED + design_cases.QUESTION_IS_THE_USE_CASE)
def test_evaluation_design_reads_the_task_of_the_use_case_not_of_a_question(
    text: str, task: str, word_rules: None
) -> None:
    assert evaluation.analyse(AdvisorRequest(text)).task_type == task


@pytest.mark.parametrize("question", design_cases.QUESTIONS)
def test_evaluation_design_keeps_the_task_whatever_question_follows(question: str, word_rules: None) -> None:
    use_cases = [text for text, *_ in design_cases.IN_OTHER_WORDS + design_cases.WORDS_IN_THEIR_SENSE]
    alone = [evaluation.analyse(AdvisorRequest(text)).task_type for text in use_cases]
    asked = [evaluation.analyse(AdvisorRequest(f"{text} {question}")).task_type for text in use_cases]
    assert asked == alone
