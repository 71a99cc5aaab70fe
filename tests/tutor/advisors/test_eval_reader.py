"""The evaluation designer's learned reader (issue 14): real fine-tuning of the packaged MiniLM with a
LoRA adapter and heads, the shipped reader's decisions, and the word rules as its fallback."""

from __future__ import annotations

import shutil

import pytest

from tests.tutor.advisors import design_cases
from tutor.advisors import eval_reader, evaluation
from tutor.advisors.base import AdvisorRequest
from tutor.advisors.eval_reader import READER_DIR, EvalReader, Recipe, TrainingCase, train
from tutor.rag.index import packaged_embedding_dir

pytestmark = pytest.mark.timeout(300)

SLICE = [
    TrainingCase("It pulls the dose and route out of each prescription into JSON.", "structured extraction",
                 "medical", True),
    TrainingCase("It decides for each ticket which of our three teams gets it.", "classification",
                 "customer support", False),
    TrainingCase("It turns a forty-page lease into a paragraph the partner can read.", "summarisation", "legal", True),
    TrainingCase("It writes the SQL our analysts need for the ledger.", "code generation", "financial", True),
    TrainingCase("It chats with players as a grumpy innkeeper. Just for fun.", "open-ended generation", "general",
                 False),
]  # fmt: skip


def test_training_moves_the_adapter_and_the_saved_reader_reads_it_back(tmp_path) -> None:
    """LoRA starts with B = 0, so a nonzero B proves the adapter learned; the saved files load
    into a reader that answers in the labels' own terms and learned the slice it saw."""
    from safetensors.torch import load_file

    out = train(SLICE * 4, str(packaged_embedding_dir()), tmp_path / "reader", Recipe(epochs=4), log=lambda _: None)
    weights = load_file(str(out / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and all(float(t.abs().max()) > 0 for t in lora_b)
    reader = EvalReader.from_dir(str(packaged_embedding_dir()), out)
    readings = [reader.read(case.text) for case in SLICE]
    assert [r.task for r in readings] == [c.task for c in SLICE]
    assert [r.domain for r in readings] == [c.domain for c in SLICE]
    assert all(0 < r.confidence <= 1 for r in readings)


def test_the_shipped_reader_is_packaged_and_knows_dev_cases_the_word_rules_missed() -> None:
    """Two of its training cases (bench/eval_cases_dev4.yaml) that name no task word: the shipped
    files are the trained ones. Held-out accuracy is measured by bench/eval_scenarios.py."""
    assert (READER_DIR / "adapter_model.safetensors").stat().st_size < 5_000_000  # small enough for git
    reader = eval_reader.eval_reader()
    assert reader is not None
    reading = reader.read("community pharmacy - boils the full drug monograph down to half a page for the counter")
    assert (reading.task, reading.domain, reading.high_stakes) == ("summarisation", "medical", True)
    reading = reader.read("Payroll analytics: it turns what the analyst asks into something the warehouse can run.")
    assert (reading.task, reading.domain) == ("code generation", "financial")


# The word rules' test cases (none in the reader's training data), less the reader's known miss (a
# denied harm read as high stakes, at 0.53: docs/benchmarks.md), with the labels' convention where
# the word rules' test differs: the domain of the work (recipes), the stakes from the sentence about harm.
KNOWN_MISS = "It drafts social media posts about our recipes. Nobody is harmed if it is off."
CONVENTION = {
    "It sorts our recipes into categories. A wrong answer could hurt someone with an allergy.": (
        "classification",
        "general",
        True,
    )
}
OUTSIDE_TRAINING = [
    (text, *CONVENTION.get(text, labels))
    for text, *labels in design_cases.IN_OTHER_WORDS + design_cases.WORDS_IN_THEIR_SENSE
    if text != KNOWN_MISS
]


@pytest.mark.parametrize(("text", "task", "domain", "high_stakes"), OUTSIDE_TRAINING)
def test_the_shipped_reader_on_use_cases_outside_its_training(
    text: str, task: str, domain: str, high_stakes: bool
) -> None:
    reading = eval_reader.eval_reader().read(text)
    assert (reading.task, reading.domain, reading.high_stakes) == (task, domain, high_stakes)


def test_a_long_conversation_is_read_for_its_latest_words() -> None:
    """Past the reader's 128 tokens the start of the conversation is cut, not its end: a use case
    given after a long preamble is still read."""
    history = ["Hi! I am new to this course and still finding my way around the labs, sorry. " * 10]
    latest = "It writes the SQL queries our analysts run against the sales database."
    request = AdvisorRequest(text=latest, history=history)
    assert len(request.all_text.split()) > 150
    # With the end cut instead, the reader sees the preamble alone and says classification.
    assert evaluation.analyse(request).task_type == "code generation"


def test_a_damaged_adapter_falls_back_to_the_word_rules(tmp_path) -> None:
    broken = tmp_path / "reader"
    shutil.copytree(READER_DIR, broken)
    (broken / "heads.safetensors").write_bytes(b"version https://git-lfs.github.com/spec/v1\n")  # an LFS pointer
    assert eval_reader.load_reader(broken) is None
    (broken / "heads.safetensors").unlink()
    assert eval_reader.load_reader(broken) is None


def test_without_the_reader_the_word_rules_decide(monkeypatch) -> None:
    monkeypatch.setattr(evaluation, "eval_reader", lambda: None)
    rec = evaluation.analyse(AdvisorRequest(text="It reads patient intake forms and extracts each allergy."))
    assert (rec.task_type, rec.domain, rec.high_stakes) == ("structured extraction", "medical", True)


USE_CASES = [text for text, *_ in design_cases.IN_OTHER_WORDS + design_cases.WORDS_IN_THEIR_SENSE]


@pytest.mark.parametrize(("text", "task"), design_cases.QUESTION_APPENDED + design_cases.QUESTION_IS_THE_USE_CASE)
def test_a_question_for_the_advisor_leaves_the_task_of_the_use_case(text: str, task: str) -> None:
    assert evaluation.analyse(AdvisorRequest(text)).task_type == task


@pytest.mark.parametrize("question", design_cases.QUESTIONS)
def test_any_question_after_a_use_case_keeps_its_task(question: str) -> None:
    alone = [evaluation.analyse(AdvisorRequest(text)).task_type for text in USE_CASES]
    asked = [evaluation.analyse(AdvisorRequest(f"{text} {question}")).task_type for text in USE_CASES]
    assert asked == alone


def test_a_question_in_a_later_message_keeps_the_task_of_the_first() -> None:
    request = AdvisorRequest(text="How should we evaluate it?", history=[USE_CASES[-1]])
    assert evaluation.analyse(request).task_type == "open-ended generation"


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("Board meeting minutes -> which loans were discussed, what was decided, conditions attached.",
         "summarisation"),
        ("writes the narrative section of suspicious activity reports for our AML analysts", "open-ended generation"),
    ],
)  # fmt: skip
def test_the_words_decide_a_task_the_reader_doubts(text: str, task: str) -> None:
    """Where the reader is under TASK_READ_SURE and the text names one task in its own words, the
    words decide (bench/eval_cases_dev7.yaml: the reader said classification and code generation)."""
    reading = eval_reader.eval_reader().read(text)
    assert reading.task != task and reading.task_confidence < evaluation.TASK_READ_SURE, reading
    assert evaluation.analyse(AdvisorRequest(text=text)).task_type == task


def test_words_of_the_eighth_dev_set() -> None:
    """bench/eval_cases_dev8.yaml (first scored as eval_cases_test7, 86%): an arrow to a list of
    fields is extraction, a code picked from a chart of accounts is no source code, and "triage" and
    "red flags" name calls and fields, not a classifier's verb."""
    named = evaluation._tasks_named
    assert named("nurse triage call transcripts -> chief complaint, onset, pain 0-10, red flags y/n") == [
        "structured extraction"
    ]
    assert named("gig flyers → calendar entries (title, date, start time, venue, ticket price)") == [
        "structured extraction"
    ]
    minutes = "Board minutes -> which loans were discussed, what was decided, terms."
    assert "structured extraction" not in named(minutes)
    assert "code generation" not in named("expense claims → chart of accounts code (travel, meals, software)")
    assert named("The bot triages incoming tickets into five queues.") == ["classification"]
    assert named("It flags suspicious transactions.") == ["classification"]


@pytest.mark.parametrize(
    ("text", "domain", "high_stakes"),
    [
        ("gym app: members write how a workout felt and the model labels it too easy, about right or too hard. "
         "not about injuries or anything medical, just effort", "general", False),
        ("meme bot for my group chat that roasts us when someone posts a banking app screenshot. "
         "not financial advice obviously", "general", False),
        ("The model writes the Dialogflow flow config for a telecom's support bot. A broken flow sent refund "
         "requests into a loop and the regulator fined the operator.", "customer support", True),
        ("It drafts replies for our bike shop's support inbox. We have never been fined for anything.",
         "customer support", False),
        ("It summarises discharge letters for our GPs. Not legal advice, just the clinical summary.", "medical", True),
    ],
)  # fmt: skip
def test_a_field_the_text_denies_and_stakes_it_states(text: str, domain: str, high_stakes: bool) -> None:
    """eval dev8: the reader put a gym app in medicine and a meme bot in finance, which the text
    denies, and read a fine paid over a broken flow as low stakes."""
    rec = evaluation.analyse(AdvisorRequest(text=text))
    assert (rec.domain, rec.high_stakes) == (domain, high_stakes)


def test_what_the_eighteenth_session_s_review_found() -> None:
    """The review's inputs for eval dev8's rules: a label list after an arrow, triage as a verb,
    fines that are no stakes, and a disclaimer in a text whose work is in the field."""
    named = evaluation._tasks_named
    assert "structured extraction" not in named("Support tickets -> billing, shipping, returns, account")
    for text in ("help nurses triage patient messages by urgency", "we triage support tickets by hand now"):
        assert "classification" in named(text), text
    for text in (
        "Summarise match reports: goals, penalties, red cards.",
        "Library bot that answers questions about opening hours and overdue fines.",
        "It extracts the due date, amount and late payment penalty from supplier emails.",
    ):
        assert not evaluation._as_said(text, "general", False)[1], text
    assert evaluation._as_said("We can't afford to be fined by the regulator again.", "general", False)[1]
    law = (
        "We're a law firm; the bot answers tenants about eviction notices. Every reply must say it's not legal advice."
    )
    assert evaluation._as_said(law, "legal", True) == ("legal", True)
    assert evaluation._as_said("Written for patients, not medical professionals.", "medical", True)[0] == "medical"


@pytest.mark.parametrize(
    ("text", "domain", "high_stakes"),
    [
        ("We run a job board in Lagos and the model turns job ads into title, company, location and salary range. "
         "A lot of the ads are nursing and pharmacy posts at hospitals, but we're just a job board, nothing "
         "medical happens on our side.", "general", False),
        ("the hospital's car park booking system (staff permits, visitor spaces, barrier logs). facilities team "
         "asks questions and model writes the sql. nothing clinical in that database at all, its just parking",
         "general", False),
        ("I'm in IT at a law firm. Our internal helpdesk tickets get routed by a DistilBERT model to the right IT "
         "queue. The attorneys complain loudly but nothing serious breaks if a ticket lands in the wrong queue.",
         "customer support", False),
        ("Telecom company in Egypt, we classify customer chats into 22 intents so the bot knows which flow to "
         "start. A misroute just means the customer waits a bit longer.", "customer support", False),
        ("ISP in rural Ireland, the support bot walks people through router resets before they get a human. "
         "nothing regulated here, worst case somebody's wifi stays down a bit longer", "customer support", False),
        # what a denial does not undo: a cost stated beside it, and work in a field that is high stakes
        ("Our support bot sorts customer tickets. A misroute just means a short wait, but a wrong refund costs "
         "us real money.", "customer support", True),
        ("It routes patient messages at our clinic to the right nurse. Nothing serious if it's slow.", "medical",
         True),
    ],
)  # fmt: skip
def test_a_field_and_stakes_the_ninth_dev_set_denies(text: str, domain: str, high_stakes: bool) -> None:
    """eval dev9: a job board full of nursing ads and a hospital's car-park database are not medical
    work when the text says nothing medical or clinical happens there; support work whose mistakes
    are said to cost a wait or a slower fix is not high stakes."""
    rec = evaluation.analyse(AdvisorRequest(text=text))
    assert (rec.domain, rec.high_stakes) == (domain, high_stakes)


def test_bots_and_dialogue_name_open_ended_generation() -> None:
    """eval dev9: a support bot the reader took for code generation, NPC dialogue for a summary."""
    named = evaluation._tasks_named
    assert named("support bot for a vpn app, english and russian, mostly 'it won't connect'") == [
        "open-ended generation"
    ]
    assert named("NPC dialogue for a fantasy RPG, each character has a short bio.") == ["open-ended generation"]
    assert "open-ended generation" not in named("We summarise the dialogue of each call into three bullet points.")


@pytest.mark.parametrize(
    ("text", "domain", "high_stakes"),
    [
        ("Prototype triage assistant for our ER that suggests an urgency level from the intake note. Not for "
         "clinical use yet, we are still testing.", "medical", True),
        ("It drafts discharge summaries from ward notes. Not clinical decision support, the doctor signs off.",
         "medical", True),
        ("The hospital's car park booking system: facilities staff ask and the model writes the SQL. It has "
         "nothing to do with clinical care.", "general", False),
        ("A bot that explains our fire evacuation procedures to staff; we have to make sure nothing bad happens "
         "if someone follows it.", "general", True),
        ("Support bot for an insulin pump maker's app store listing. Worst case a user waits a bit longer for a "
         "reply, but a wrong setting could put them in hospital.", "customer support", True),
        ("Mountain rescue team's radio log summaries. Nothing serious if the style is off, but if it drops a "
         "casualty's location that is very bad.", "general", True),
    ],
)  # fmt: skip
def test_what_the_nineteenth_session_s_review_found(text: str, domain: str, high_stakes: bool) -> None:
    """The review's inputs for eval dev9's rules: "not for clinical use" is a medical disclaimer, not a
    denial; "nothing to do with clinical care" denies; "make sure nothing bad happens" states stakes;
    a denial that a "but" then qualifies keeps the stakes."""
    rec = evaluation.analyse(AdvisorRequest(text=text))
    assert (rec.domain, rec.high_stakes) == (domain, high_stakes)
    assert not evaluation._STAKES_DENIED.search("Worst case the truck carries a load longer than rated and tips over.")
    assert not evaluation._fields_denied("We do nothing except medical coding: the model assigns ICD-10 codes.")


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("Internally it's the 'brief summariser', a bad name: it reads each new tribunal filing and puts it in one "
         "of 12 buckets so it reaches the right queue. No summary is written anywhere.", "classification"),
        ("It's called SortBot from its first version, but it doesn't sort or tag anything now. It writes the "
         "whole reply to each guest message for our campsite and staff approve it.", "open-ended generation"),
        ("The 'summary bot' doesn't summarise anything: it fills the form fields (name, date of loss, policy "
         "number) from each claim email.", "structured extraction"),
    ],
)  # fmt: skip
def test_a_task_the_text_names_and_then_denies_is_not_the_task(text: str, task: str) -> None:
    """eval test9: a tool named after one task ("the case summariser", "TriageBot") whose text then says
    it does not do that task was read as that task."""
    assert evaluation.analyse(AdvisorRequest(text=text)).task_type == task


def test_a_task_said_to_be_done_badly_or_more_than_once_is_not_denied() -> None:
    denied = evaluation._tasks_denied
    assert denied("It does not summarise well yet: the summaries miss the dosage.") == set()
    assert denied("It doesn't just classify the ticket, it also drafts the reply.") == set()
    assert denied("Decide whether or not each claim is fraud.") == set()
    assert denied("Summaries of no more than three lines.") == set()
    assert denied("It must not invent fields that are not in the form.") == set()
    assert denied("We call it the summariser, but no summary gets written; it only tags each filing.") == {
        "summarisation"
    }
    assert denied("it's called TriageBot but it doesn't triage or tag anything anymore") == {"classification"}
    assert denied("No summary gets written; it only tags each filing.") == set()  # no tool named after a task


@pytest.mark.parametrize(
    ("text", "domain", "high_stakes"),
    [
        ("We sell personal finance software but this model has nothing to do with money: it tags incoming support "
         "tickets by product area (login, sync, reports) for the right squad.", "customer support", False),
        ("I'm at an insurer but ignore that, the model only writes our Ansible playbooks for test servers. Nothing "
         "touches customer money or production; if it's wrong the job fails and we fix it.", "general", False),
        ("Comms team at a children's hospital, but this isn't clinical at all: it writes posts about the fun run "
         "and the new playground. Anything medical gets removed by us anyway.", "general", False),
        ("A chemist chain, but there's nothing clinical in this one: the model reads chats about late parcels and "
         "fills in the order number, courier and whether they want a resend or a refund.", "customer support",
         False),
        # eval dev14 (read as test14): "nothing about money or markets" denies both of the field's words
        ("Summaries of the recorded town halls at a large bank, for staff who missed them: office moves, HR news, "
         "the CEO's pep talk. Nothing client facing, nothing about money or markets.", "general", False),
        ("A mutual fund house, but the model is nothing about finance: it writes alt text for the photos on our "
         "careers page.", "general", False),
    ],
)  # fmt: skip
def test_a_field_the_tenth_dev_set_denies_in_other_words(text: str, domain: str, high_stakes: bool) -> None:
    """eval test9: "nothing to do with money", "nothing touches customer money", "this isn't clinical at
    all" deny the field; once a field is denied, the stakes are the ones the rest of the text states."""
    rec = evaluation.analyse(AdvisorRequest(text=text))
    assert (rec.domain, rec.high_stakes) == (domain, high_stakes)


def test_a_screenplay_s_script_is_no_code() -> None:
    """eval test9: the scenes of a film script were read as code generation."""
    named = evaluation._tasks_named
    assert named("Screenwriting tool: it classifies each scene of a script by location type.") == ["classification"]
    assert "code generation" in named("It writes a script that renames our scene files in Blender.")


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("It drafts the narrative for each suspicious activity report from the analyst's notes.", "financial"),
        ("Writes Power BI measures and Excel formulas for our FP&A analysts.", "financial"),
        ("It maps each problem-list entry to a SNOMED concept.", "medical"),
        ("It reads each subpoena we receive and lists the documents it asks for.", "legal"),
        ("We're an AML vendor but this model has nothing to do with money: it writes our release notes.",
         "general"),
    ],
)  # fmt: skip
def test_terms_only_one_field_uses_name_the_field(text: str, domain: str) -> None:
    """eval test9: "suspicious activity reports" and "FP&A" were read as general work; terms that only
    a high-stakes field uses name it (every use in bench/'s labelled sets is that field's, or another
    high-stakes field's), unless the text denies the field."""
    rec = evaluation.analyse(AdvisorRequest(text=text))
    assert (rec.domain, rec.high_stakes) == (domain, domain != "general")


def test_scripts_read_aloud_and_red_flags_are_no_code_or_labels() -> None:
    """eval test10: "writes the toolbox talk scripts supervisors read to crews" was read as code
    generation, "it writes the aftercare instructions: …, red-flag symptoms" as classification."""
    named = evaluation._tasks_named
    assert named("The model writes the toolbox talk scripts supervisors read to crews before each shift.") == [
        "open-ended generation"
    ]
    assert named("Given the procedure, it writes the aftercare instructions: wound care, red-flag symptoms.") == [
        "open-ended generation"
    ]
    assert named("It writes the bash scripts that rotate our logs.") == ["code generation"]
    assert "classification" in named("It flags red-flag symptoms in triage notes for the nurse.")


@pytest.mark.parametrize(
    ("text", "domain", "high_stakes"),
    [
        ("I'm a solicitor by day, but this is a side project: a model that writes riddles for my kids' treasure "
         "hunts. How do I evaluate something playful?", "general", False),
        ("We're a law firm, but this model only condenses the leases for our property team.", "legal", True),
        ("I'm a nurse but this is for the hospital's drug-dosing calculator: it writes the Python behind it.",
         "medical", True),
    ],
)  # fmt: skip
def test_who_the_learner_is_is_not_the_work_when_a_but_sets_it_aside(
    text: str, domain: str, high_stakes: bool
) -> None:
    """eval test10: "I'm a paralegal by day but this is my hobby project: … quest descriptions for my
    D&D campaign" was legal work. The field of a self-introduction that "but this …" sets aside is the
    work's only when the rest of the text names it too."""
    rec = evaluation.analyse(AdvisorRequest(text=text))
    assert (rec.domain, rec.high_stakes) == (domain, high_stakes)


@pytest.mark.parametrize(
    ("text", "task", "domain", "high_stakes"),
    [
        ("The model writes SQL queries for sales managers who don't write SQL themselves.", "code generation",
         "general", False),
        ("Currently we don't categorize customer feedback at all. The model should categorize each comment by "
         "product area.", "classification", None, None),
        ("We have no labels, so the model has to classify each support ticket by urgency.", "classification",
         None, None),
        ("It's not the sort of project I've done before: the model should classify support tickets by urgency.",
         "classification", None, None),
        ("A nurse-line chatbot classifies each incoming message as clinical or not clinical, so nurses see the "
         "clinical ones first.", "classification", "medical", True),
        ("The agent drafts wire transfer instructions for our treasury team; nothing moves money without a human "
         "sign-off.", None, "financial", True),
        ("Internal newsletters for the FP&A team about birthdays and the summer party. Nothing high stakes, mistakes "
         "are harmless.", None, "general", False),
        ("I'm a paralegal but this is for our firm's intake: the model sorts incoming client emails into matter "
         "types.", "classification", "legal", True),
        ("I'm a GP but this is about my practice's admin: it drafts referral letters from my consultation notes.",
         None, "medical", True),
    ],
)  # fmt: skip
def test_what_the_twentieth_session_s_review_found(
    text: str, task: str | None, domain: str | None, high_stakes: bool | None
) -> None:
    """The review's inputs for eval dev10's and dev11's rules: a denial about people or a missing resource is
    no denial of the model's task (only a tool named after a task is), "clinical or not clinical" and a
    safeguard on money deny no field, a team named by a field's term is no field's work when the text
    denies the stakes, and a self-introduction is set aside only for a hobby or side project."""
    rec = evaluation.analyse(AdvisorRequest(text=text))
    if task:
        assert rec.task_type == task
    if domain:
        assert (rec.domain, rec.high_stakes) == (domain, high_stakes)
    assert evaluation._tasks_denied("The bot does NOT summarize OR classify anything. Its name? SummaryBot.") == {
        "summarisation",
        "classification",
    }


def test_words_of_the_eleventh_test_set() -> None:
    """eval test11 (scored once unread, 88%; now dev12): "this has nothing to do with patients" denies the
    medical field; a model that plays a simulated patient is generation."""
    estates = (
        "I work at a hospital, but this has nothing to do with patients: I'm on the estates team. The model pulls "
        "asset ID, job type and parts used from contractor job sheets into our maintenance spreadsheet."
    )
    rec = evaluation.analyse(AdvisorRequest(text=estates))
    assert (rec.domain, rec.high_stakes) == ("general", False)
    assert evaluation._tasks_named("The model plays a simulated patient so students can practise history-taking.") == [
        "open-ended generation"
    ]


@pytest.mark.parametrize(
    ("text", "domain", "high_stakes"),
    [
        # harm said without "could": "real kids get hurt"
        ("Chat filter for a kids' coding forum: it labels each post ok / spam / bullying. If bullying slips "
         "through, children get hurt, so recall matters most.", "general", True),
        ("It flags forklift near-miss reports as urgent or routine. When an urgent one waits a week, workers get "
         "injured.", "general", True),
        # fun and no money at stake
        ("My fantasy football league bot pulls each player's knock and likely comeback week from club news into "
         "a sheet. purely for fun, the league has no prizes", "general", False),
        # no data of the field anywhere near the work
        ("Terraform modules for our dental group's internal wiki servers. No patient or billing data goes "
         "anywhere near it, its only the wiki.", "general", False),
    ],
)  # fmt: skip
def test_words_of_the_thirteenth_test_set(text: str, domain: str, high_stakes: bool) -> None:
    """eval test13 (scored once unread, 82%; now dev13): children who "get hurt" state the stakes; "just
    for fun, noone bets real money on it" denies them; "no patient or prescription data goes anywhere near
    it" denies the medical field."""
    rec = evaluation.analyse(AdvisorRequest(text=text))
    assert (rec.domain, rec.high_stakes) == (domain, high_stakes)


def test_a_stated_harm_or_a_field_s_data_kept_in_its_place_stays() -> None:
    """The other side of the thirteenth test set's rules: nobody hurt is no harm, and a field's data kept
    private is still that field's work."""
    safe = "It tags gym class reviews as positive or negative. nobody gets hurt if it is wrong."
    assert evaluation.analyse(AdvisorRequest(text=safe)).high_stakes is False
    ward = "It summarises ward round notes for the next shift's nurses; no patient data leaves the hospital."
    assert evaluation.analyse(AdvisorRequest(text=ward)).domain == "medical"
    # (the review) a job, a website or a game character "getting killed" is no harm to people; patient
    # data absent from a prompt leaves medical work medical
    for text in (
        "We fine-tune Llama 3 8B to summarise support tickets, but the training job keeps getting killed by OOM.",
        "Our SEO got hurt last year by thin AI content; we fine-tuned a model to write product descriptions.",
        "A meme caption generator; worst case someone gets hurt feelings.",
    ):
        assert evaluation.analyse(AdvisorRequest(text=text)).high_stakes is False, text
    er = "Our model triages ER patients. No clinical data at all is stored afterwards."
    assert (
        evaluation.analyse(AdvisorRequest(text=er)).domain,
        evaluation.analyse(AdvisorRequest(text=er)).high_stakes,
    ) == ("medical", True)
