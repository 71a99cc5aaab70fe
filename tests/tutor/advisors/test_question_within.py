"""A use case that also asks a course question: the question is found, searched and answered from
the course under the recommendation, whether or not the model's explanation passes the check."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from labs.advisor_tab import api_result
from tests.conftest import advisor_settings
from tutor.advisors import ADVISORS
from tutor.advisors.answer_eval import has_fact, plain_answer, reply_from_events
from tutor.advisors.extractive import plain_units
from tutor.advisors.grounding import contradictions
from tutor.advisors.question_within import (
    asking_clause,
    asks_beyond_the_verdict,
    in_context,
    names_what_it_asks,
    question_within,
    without_the_course,
)
from tutor.advisors.turn import ON_YOUR_QUESTION, final_answer
from tutor.core import Core
from tutor.llm.fake import FakeChatModel


@pytest.mark.parametrize(
    ("text", "question"),
    [
        # The clause that asks, after the case told in the same sentence.
        (
            "our traffic is spiky (quiet at night, busy at lunch). where should we host the model",
            "where should we host the model",
        ),
        # The whole sentence that asks: the family is asked for the languages named before it.
        (
            "We want strong German and French support, which open model family has that?",
            "We want strong German and French support, which open model family has that?",
        ),
        # A question that points back ("them", "that") keeps what it points at; "2,000" is one number.
        (
            "I had GPT-4 write 2,000 examples for our bot, how many of them should I check by hand?",
            "I had GPT-4 write 2,000 examples for our bot, how many of them should I check by hand?",
        ),
        # No question mark: the clause asks by its word order.
        (
            "we generated 8000 examples with gpt-4o. how much of the generated stuff are we supposed to read by hand,"
            " please dont say all of it",
            "how much of the generated stuff are we supposed to read by hand, please dont say all of it",
        ),
        # Found by a review: questions with no question mark that the word-order rule first missed.
        (
            "Quick question: how many examples do I need for LoRA",
            "Quick question: how many examples do I need for LoRA",
        ),
        (
            "We have 2k support tickets. what model to use for this",  # few words of its own: with the one before
            "We have 2k support tickets. what model to use for this",
        ),
        (
            "We have 2k emails in Dutch, which model is best for that",
            "We have 2k emails in Dutch, which model is best for that",
        ),
        (
            "We have 3k chats, any tips on choosing the LoRA rank",
            "We have 3k chats, any tips on choosing the LoRA rank",
        ),
        (
            "We train on 5k pairs, how many epochs should the model train",
            "We train on 5k pairs, how many epochs should the model train",
        ),
        ("Which base model is best here (Llama or Mistral?)", "Which base model is best here (Llama or Mistral?)"),
        # "how far off" and "how much" ask whatever noun follows the verb ("were most teams' rates").
        (
            "our adapter fell apart after we used a pretraining rate. the course told that story, right? how far off "
            "were most teams' rates back then",
            "how far off were most teams' rates back then",
        ),
        # a hedge before the question word (advisor_heldout8: "... before anyone touched it. roughly how
        # many tokens was that" was not found, so the case's answer left the figure out)
        (
            "We are three people building a tutor for a Lisbon school and my friend thinks open models are "
            "weak. approximately how many GPU hours did the biggest llama take",
            "approximately how many GPU hours did the biggest llama take",
        ),
        # Too few words of its own: the sentence before says what it is about.
        (
            "Legal is worried about sending customer data to OpenAI. What's the alternative?",
            "Legal is worried about sending customer data to OpenAI. What's the alternative?",
        ),
    ],
)
def test_the_course_question_inside_a_use_case_is_found(text: str, question: str) -> None:
    assert question_within(text) == question


def test_a_hedge_before_a_free_relative_asks_nothing() -> None:
    """(the review) "roughly what happens is…" describes; "roughly how many…" asks."""
    assert (
        question_within("We run a helpdesk for a gym chain. Roughly what happens is the member asks and we reply.")
        is None
    )
    assert (
        question_within("We have 4k tickets. btw what rank should the adapter use")
        == "btw what rank should the adapter use"
    )


@pytest.mark.parametrize(
    "text",
    [
        # Requests for the advisor's verdict: the recommendation is their answer.
        "We have 8,000 contracts and the data cannot leave our servers. Should we fine-tune?",
        "CTO here. We extract attributes from 1.5M listings a day. What do you recommend?",
        "i only have 60 examples total. fine tune or do something else?",
        'Here\'s my first example: {"prompt": "2+2", "completion": "4"}. What\'s wrong with it?',
        # No question at all.
        "We answer 3,000 Dutch support tickets a day and have 12k answered tickets.",
        # Told, not asked: relative clauses, lists of what people ask, "can't" and "any" in a statement.
        "Forecast questions come in all day. The answer depends on the wind and rain forecast, which updates "
        "several times a day.",
        "Technicians ask questions about our SOPs, which did not change since the line was installed in 2015.",
        "We run a garden shop and want a chat assistant for customers: what's in stock, current prices, delivery "
        "times.",
        "Each handover note becomes three lines for the next shift: what changed, what's pending, what to watch.",
        "It reads support emails and fills in the ticket: customer name, order number, what they want.",
        "Operator data is confidential, can't go outside company network.",
        "Nothing else special – it's a free-text summary, any reasonable wording is fine.",
        # A free relative or a time clause, and a list of what users ask after a short label.
        "What we actually have labelled: 700 chat transcripts rated good by QA.",
        "When results are released, we want a plain-language explanation for each patient.",
        "Online pharmacy chatbot: which meds are in stock, current prices, delivery slots.",
        # A statement with its subject left out.
        "Have a dataset of 2,000 labelled support emails in German.",
        "Was a teacher for 10 years and have 3,000 graded essays.",
        # The questions the learner's own users ask, quoted.
        "A tax Q&A bot for freelancers that answers questions like 'can I deduct my home office?'",
        "Users ask 'is token X listed', 'what's the withdrawal fee now?', and fees change weekly.",
        # "which of course", and "someone" in a statement
        "We keep the product names, which of course change every season, in a spreadsheet.",
        "Someone on the team labels about 300 tickets a week by hand.",
        "What our night shift nurses type into the system is always short and full of abbreviations.",
        "What the night shift nurses do is type short notes full of abbreviations.",
        "We run a bike shop helpdesk with 3k tickets a month. Any issues with refunds go to Sam by email.",
    ],
)
def test_a_request_for_the_verdict_or_a_plain_case_asks_no_course_question(text: str) -> None:
    assert question_within(text) is None


def test_the_labs_try_prompts_ask_no_course_question_beside_their_case() -> None:
    """The Try prompts ask for the lab's verdict ("Is fine-tuning worth it?", "What's wrong?"): their
    quotes stay those of the case."""
    assert [question_within(m.LAB.try_prompt) for m in ADVISORS.values()] == [None] * len(ADVISORS)


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory, shared_data_dir: Path) -> Iterator[Core]:
    tmp = tmp_path_factory.mktemp("within")
    core = Core.start(advisor_settings(tmp, shared_data_dir, llm_backend="fake"))
    yield core
    core.store.close()


SERVING = (
    "We need to serve our fine-tuned 7B model to a few thousand users at the same time, which server is the "
    "standard for that?"
)


def test_the_quotes_under_a_use_case_answer_the_question_it_asks(core: Core) -> None:
    advice = core.advise_once("eval", SERVING)
    assert advice.question and advice.recommendation.citations  # the rules still design the evaluation
    core.chat_model = lambda: FakeChatModel("Use 17 GPUs and a learning rate of 9.")  # fails the check
    final = final_answer(core.answer(advice, drafts=False))
    assert final.source == "extract"
    assert "vLLM" in final.explanation  # before: quotes on evaluating, near the case, none on serving
    assert contradictions(final.explanation, advice.recommendation.claims()) == []
    # The API's passages hold every passage a quote comes from.
    passages = {(p["page_id"], p["anchor"]) for p in api_result(advice, final)["passages"]}
    quoted = set(re.findall(r"\?open=([\w-]+)#([\w-]+)", final.explanation))
    assert quoted and quoted <= passages


def test_a_checked_explanation_still_comes_with_the_answer_to_the_question(core: Core) -> None:
    advice = core.advise_once("eval", SERVING)
    sentence = plain_units(advice.passages[0].text)[0]  # a course sentence: it passes the check
    core.chat_model = lambda: FakeChatModel(sentence)
    final = final_answer(core.answer(advice, drafts=False))
    assert final.source == "model" and final.explanation.startswith(sentence + ON_YOUR_QUESTION)
    assert "vLLM" in final.explanation.split(ON_YOUR_QUESTION)[1]


def test_a_use_case_without_a_question_is_quoted_as_before(core: Core) -> None:
    advice = core.advise_once("strategy", "We answer 3,000 Dutch support tickets a day and have 12k answered tickets.")
    assert advice.question is None and advice.question_passages == []


@pytest.mark.parametrize(
    ("question", "beyond"),
    [
        ("what chunk size and overlap should i use?", True),
        ("how do i merge them into one model with ties or dare", True),
        # Requests for the verdict on the case: the recommendation is their answer.
        ("could i fine-tune a model on my hive inspections?", False),
        ("Is it possible to train a tiny LLM from scratch only on Sanskrit texts?", False),
        ("What if I only had 30 labelled examples, could I still fine-tune something?", False),
        ("Should we fine-tune a model on how our team writes SOPs?", False),
        ("Is fine-tuning worth it given how little data we have?", False),
        # Someone else's question, quoted after the case.
        ("On election night we want a bot to answer readers: who's leading in my district?", False),
        ("", False),
    ],
)
def test_a_question_beyond_the_verdict_is_told_from_a_request_for_it(question: str, beyond: bool) -> None:
    assert asks_beyond_the_verdict(question) is beyond


@pytest.mark.parametrize(
    "text",
    [
        # What the course says, asked mid-sentence and without a question mark (dev4, in other words).
        "we rate replies thumbs up or down in our helpdesk. before we start, which famous models does the course say "
        "were tuned with human feedback",
        "we turn invoices into a json record. for the test set how do we grade output like that according to "
        "the course",
        "our demand peaks in december and is flat otherwise, which option in the course suits that kind of traffic",
        "we tuned our router on 400 tickets and want to try it on live traffic first. does the course have a name for "
        "running it beside the old one",
        "i assumed a 4-bit base trains faster on our a100. is that right or does the course say otherwise",
    ],
)
def test_a_question_about_what_the_course_says_asks_beyond_the_verdict(text: str) -> None:
    question = question_within(text)
    assert question is not None and asks_beyond_the_verdict(question)


@pytest.mark.parametrize(
    "text",
    [
        "We have 500 support tickets. What does the course recommend?",
        "our notes are in jira. does the course say we should fine-tune?",
        "We sort 2k emails a day and have 8k labelled. What would the course suggest for us?",
        # An education team's own lessons, modules and course catalogue are their case (a review).
        "We want a tutor bot for students who get stuck in the lesson exercises.",
        "The bot should explain what students got wrong in the module quizzes.",
        "Our teachers do the lesson planning by hand and we want a model to draft the plans.",
        "We want a chatbot that tells learners which videos are in our course catalogue.",
    ],
)
def test_the_verdict_asked_of_the_course_or_a_learner_s_own_course_asks_nothing_beyond_it(text: str) -> None:
    question = question_within(text)
    assert question is None or not asks_beyond_the_verdict(question)


@pytest.mark.parametrize(
    "text",
    [
        # A question that asks neither for the verdict nor by a question word, then a pointer at the
        # course ("what does the course say") that has no words of its own.
        "we trained an adapter on mistral 7b v0.1 and v0.3 came out last week. can we reuse the same adapter on "
        "v0.3? what does the course say",
        "is the llama licence fine for an app we sell to hospitals",
        "we picked mistral 7b for an app we sell. are its weights fine to ship inside the product",
        "our intent labels are lopsided, 80% are billing. should i upsample the small intents or use weights in the "
        "loss",
        # A last clause that asks without a question mark or a verb before its subject.
        "we have 5k chosen/rejected pairs from agent ratings and want preference tuning. for the pairs is it the "
        "number that counts or something else, what matters most",
        # "which of …" past the first clause, and "someone"/"people" as the subject (dev7's follow-ups
        # were read as a new case and got the recommendation again)
        "and if we move to phones later on, which of the llama sizes suit running on the handset itself",
        "ok got it. so how many of the generated rows should somebody on the team check by hand",
        "we label 2k tickets a month, how often should people rerun the evaluation suite on fresh samples",
        # a longer thing asked about before the verb that asks
        "we tune a small model for our florist captions. what share of the budget should go to labelling",
        # a yes-or-no question about what was just told, which names no approach
        "we scored our adapter on 300 held out rows, then noticed a few dozen of them were in the train split "
        "too. does that really matter?",
        "parts classifier for a bike shop, every example was typed by our one intern in the same short style, "
        "any issue if we go live with only those",
        # the sentence before ends on "..."; a comma inside brackets
        "we scored the adapter on 300 held out rows, then noticed dozens of those scored rows duplicated in the "
        "train split too... does that really matter?",
        "every one of our examples was typed by one intern (short, polite, english), any problem if we ship "
        "with just those",
    ],
)
def test_a_question_that_asks_beyond_the_verdict_without_a_question_word_is_found(text: str) -> None:
    question = question_within(text)
    assert question is not None and asks_beyond_the_verdict(question)


@pytest.mark.parametrize(
    "text",
    [
        "We have 8k contracts. Can we fine-tune Llama 3 on them? What does the course say?",
        "Does that make sense for our volume of 3,000 tickets a day?",
        "Can we do this with 500 examples and no GPU?",
        # The verdict asked in other words (a review).
        "We have 800 contracts. could we do it with 800 labelled contracts in german",
        "We have 2k tickets. is it overkill for our 2k support tickets",
        "We have no ml team. is it feasible for our team with no ml background",
        "We get 5k chats a day. can a small model handle this kind of volume",
        "We get 5k chats a day. is a 7b model enough for our volume",
        # a question about what was told that is the verdict's: an amount or an approach
        "we only have 40 labelled examples. is that a problem?",
        "we want to fine-tune llama on our support tickets, is that a problem?",
        "our data is private. does that matter?",
        # "someone" asked for a hand, not the subject of a question about the course
        "we have 2k labelled claims and want a model that drafts the reply. can someone sanity check this plan?",
        # Statements that open like questions (a review).
        "we run a support desk with 3k tickets a month, what matters most to us is latency and cost",
        "we fine-tuned llama on 5k rows, which model we then deployed on a single a10",
        "we sell car parts, which models of car we cover changes every month",
        "how well the model does on our legal memos matters a lot, we have 2k of them",
    ],
)
def test_a_yes_no_request_for_the_verdict_asks_nothing_beyond_it(text: str) -> None:
    question = question_within(text)
    assert question is None or not asks_beyond_the_verdict(question)


def test_a_bare_pointer_at_the_course_is_read_with_the_two_sentences_before_it() -> None:
    text = (
        "We run a shop. Our loss jumps up and down from one step to the next. Batch size per device is 2 on our "
        "small card. What does the course say to change"
    )
    assert in_context(text, question_within(text)) == text.removeprefix("We run a shop. ")


def test_the_words_that_name_the_course_are_left_out_of_what_is_searched() -> None:
    assert without_the_course("does the course have a name for running it beside the old one") == (
        "a name for running it beside the old one"
    )
    assert without_the_course("how should we score output like that according to the course") == (
        "how should we score output like that"
    )
    # A learner's own course, and the course's example config, are what is asked about.
    assert without_the_course("a bot for our course catalogue") == "a bot for our course catalogue"
    assert without_the_course("what does the course's example set the rank to") == (
        "what does the course's example set the rank to"
    )
    # What is asked about stays (a review): the course's example, PyTorch's module, nothing left.
    for kept in (
        "what lr does the course example have",
        "lora targets the attention module, does the module have to be linear",
        "what are the lessons learned from alpaca",
        "does the course say",
    ):
        assert without_the_course(kept) == kept


def test_the_question_is_read_with_the_sentence_before_it() -> None:
    text = "We run a shop. Traffic spikes in December and is dead in summer. Which hosting option fits that load?"
    assert in_context(text, question_within(text)) == (
        "Traffic spikes in December and is dead in summer. Which hosting option fits that load?"
    )
    assert in_context("Which hosting option fits a spiky load?", "Which hosting option fits a spiky load?") == (
        "Which hosting option fits a spiky load?"
    )
    asked_twice = "Which option fits that load? Our traffic spikes at lunch. Which option fits that load?"
    assert in_context(asked_twice, "Which option fits that load?") == (
        "Our traffic spikes at lunch. Which option fits that load?"
    )
    joined = "We classify 4k tickets. How do we evaluate it?"  # question_within joined them already
    assert in_context(f"Hi! {joined}", joined) == joined


def test_the_asking_clause_leaves_the_case_before_it() -> None:
    text = "We built a Salesforce case summarizer with 4k examples, how do we evaluate it?"
    assert asking_clause(text) == "how do we evaluate it?"
    # "which" before a thing chosen asks; "which" before a verb tells ("…, which did not change").
    text = "our load peaks in march and is flat otherwise, which hosting option fits that kind of traffic"
    assert asking_clause(text) == "which hosting option fits that kind of traffic"
    text = "We label 2k emails a day, which model family is right for that?"
    assert asking_clause(text) == "which model family is right for that?"
    text = "Our SOPs live in Notion, which the whole team edits. How do we evaluate the bot?"
    assert asking_clause(text) == "How do we evaluate the bot?"
    # A bare pointer at the course cannot be measured alone (a review): the whole message decides.
    assert not names_what_it_asks(asking_clause("can we reuse the same adapter on v0.3? what does the course say"))
    assert names_what_it_asks("What does the course say to change")
    assert asking_clause("Why does the loss go to zero?") == "Why does the loss go to zero?"


def test_a_use_case_whose_question_the_course_does_not_answer_says_so(core: Core) -> None:
    """The question is answered as any course question is: "the course does not answer that", with
    the nearest course sentence, under the rules' recommendation; the model still explains it."""
    text = (
        "ok the course convinced me to use rag for our product docs, 2k pages and 500 questions a day. "
        "what chunk size and overlap should i use"
    )
    advice = core.advise_once("strategy", text)
    assert advice.recommendation.citations and advice.question_answer is not None
    assert advice.question_answer.outcome == "off_course"
    core.chat_model = lambda: FakeChatModel("Use 17 GPUs and a learning rate of 9.")  # fails the check
    final = final_answer(core.answer(advice, drafts=False))
    assert final.explanation.startswith("The course does not answer that")
    assert "?open=" in final.explanation  # with the nearest section it does cover


def test_a_use_case_on_the_course_s_topic_whose_question_the_course_does_not_answer_says_so(core: Core) -> None:
    """The message is about fine-tuning (so it reads as on the course's topic), but what it asks,
    fine-tuning a speech model step by step, the course does not answer: quoting a case study about
    doctors finding failures answered nothing in the course's name."""
    text = (
        "our radiology dictations come out of the speech-to-text with drug names wrong, about 300 hours of audio a "
        "month. how would i fine tune whisper on those recordings, step by step"
    )
    advice = core.advise_once("strategy", text)
    assert advice.question_answer is not None and advice.question_answer.outcome == "off_course"
    assert advice.question_answer.text.startswith("The course does not")


@pytest.mark.parametrize(
    ("lab", "text", "fact"),
    [
        ("eval", "We built a Salesforce case summarizer with 4k examples, how do we evaluate it?", "stronger model"),
        ("dataset", "I have 500 Kubernetes incident reports, how should I format them as training data?", "JSON"),
        # The clause that asks decides among sentences near the case (the case's own words drew
        # "An LLM is a large transformer…" and "Catastrophic forgetting — High risk" first).
        (
            "strategy",
            "our board wants a model of our own built from nothing on our 5m crm rows (we're a regional bank). i need "
            "hard numbers to argue back, what does the course give as the cost of training from scratch",
            "up-front cost",
        ),
        (
            "hyperparams",
            "we fully fine-tuned a 3b model only on our legal memos and now it rambles about contracts whatever you "
            "ask. what does the course suggest to hold on to the general abilities if we keep full fine tuning",
            "EWC",
        ),
    ],
)
def test_a_course_question_inside_a_case_that_names_its_tools_is_answered(
    core: Core, lab: str, text: str, fact: str
) -> None:
    """The case's tools (Salesforce, Kubernetes) are not what is asked: the course answers it."""
    advice = core.advise_once(lab, text)
    assert advice.question_answer is not None and advice.question_answer.outcome == "answer"
    assert fact in advice.question_answer.text and "does not answer" not in advice.question_answer.text


def test_a_request_for_the_verdict_is_left_to_the_recommendation(core: Core) -> None:
    advice = core.advise_once(
        "strategy", "We keep 600 SOPs in Notion. Should we fine-tune a model on how our team writes SOPs?"
    )
    assert advice.question and advice.question_answer is None


def test_the_answer_under_a_case_gives_no_other_figure_than_its_recommendation(core: Core) -> None:
    """ "Full fine-tuning uses 1e-5 to 5e-5" is a true course sentence, but quoted under a LoRA
    recommendation of 2e-4 it reads against it."""
    text = "fine tuning a vision transformer on 10k xray images for 4 classes. what lr and image size should i use"
    advice = core.advise_once("hyperparams", text)
    assert advice.question_answer is not None
    assert contradictions(advice.question_answer.text, advice.recommendation.claims()) == []


def test_the_quotes_under_a_case_answer_its_question_not_the_case_around_it(core: Core) -> None:
    """The case (laptops, Ollama, a field team) drew the quotes towards local serving; the question's
    own sentences ask which quantisation level the course calls the usual choice."""
    text = (
        "our sales team travels a lot and we want our tuned 8b model on their laptops through ollama, no gpu. "
        "i count about a dozen gguf quantisation levels and have no idea. which of them does the course "
        "call the usual sweet spot"
    )
    advice = core.advise_once("eval", text)
    assert advice.question_answer is not None and advice.question_answer.outcome == "answer"
    assert "Q4_K_M" in advice.question_answer.text


@pytest.mark.parametrize(
    "text",
    [
        # A question word after a lead-in phrase, with no comma and no question mark.
        "i'm a student in lima with one 16gb card. in the qlora paper what was the largest model they tuned on a "
        "single gpu",
        "and if we host it ourselves on a rented gpu how long would the training run take",
        # "pretraining" names the paper the rate comes from, not a plan to pre-train.
        "we tune mistral 7b on 6k receipts. is it fine to copy the learning rate from the original pretraining paper "
        "or will that break the adapter",
    ],
)
def test_a_question_after_a_lead_in_asks_beyond_the_verdict(text: str) -> None:
    question = question_within(text)
    assert question is not None and asks_beyond_the_verdict(question)


@pytest.mark.parametrize(
    "text",
    [
        # Told, not asked: a lead-in before a relative clause or a free relative.
        "for customers who are in a hurry we want replies of two lines.",
        "in our shop what we sell changes every week.",
        "if the parcel is late what they want is a refund.",
        # The verdict asked after a lead-in, and a plan to pre-train asked about.
        "We have 800 contracts. in your view what should we do",
        "we have 2 trillion tokens of our own text. is pretraining from scratch realistic for us",
        # A short question after a case asks for the verdict (strategy dev sets).
        "We want to pre-train our own model on 3T tokens with a $30M budget. Where do we start?",
        "Our museum bot should speak as a painter and give today's hours. Which approach fits?",
    ],
)
def test_a_lead_in_before_a_statement_or_the_verdict_asks_nothing_beyond_it(text: str) -> None:
    question = question_within(text)
    assert question is None or not asks_beyond_the_verdict(question)


@pytest.mark.parametrize(
    "text",
    [
        # A later clause whose subject is "their", "his" or "her".
        "our cfo wants a home-grown model trained from nothing. i need figures, what did their from-scratch "
        "model cost in the end",
        # "who" opening the last clause of a sentence that ends on a question mark asks.
        "my boss thinks the low-rank method came from openai, i'm not so sure - who published it first?",
        # The verb first with "all" or "both" as its subject.
        "we run 4 experts per layer in our model. do all of them fire on every token or only a couple",
        # A sentence that opens on "which" and a thing asked about, with a plain verb and no "?"
        # (advisor_heldout7's c35)
        "we run a tax return helper bot in brisbane, 6 of us. traffic is basically nothing most of the year "
        "then huge from july to october. which hosting option from lesson 4 suits that kind of spiky load",
        "our catalogue bot serves 40 shops. which quantisation level keeps the most quality on a laptop",
    ],
)
def test_more_question_shapes_inside_a_use_case_ask_beyond_the_verdict(text: str) -> None:
    question = question_within(text)
    assert question is not None and asks_beyond_the_verdict(question)


@pytest.mark.parametrize(
    "text",
    [
        "we have 3 agents, who wrote 2k replies last year.",
        "the vendor trained it and their team, which is small, maintains it.",
        "our agents, who are very busy, rate every reply. should we fine-tune?",
        "we get 900 claims a day. which is why we want a model that reads them.",
        "Our prompts keep breaking. Which means the team wants to fine-tune on 2k examples.",
        # (the review) a sentence that goes on from the one before
        "We have 3,000 labelled invoices. Which took us three months to annotate by hand.",
        "We have 10k chats from our help desk. Which we anonymised last month with a script.",
        "We run a 7B model on one A10 GPU for 200 users. Which worked fine until traffic doubled last week.",
    ],
)
def test_relative_clauses_still_ask_nothing(text: str) -> None:
    question = question_within(text)
    assert question is None or not asks_beyond_the_verdict(question)


def test_a_later_clause_with_all_of_them_as_its_subject_asks() -> None:
    text = "in a model whose layers route between several small networks, do all of them run for every input token"
    question = question_within(text)
    assert question is not None and asks_beyond_the_verdict(question)


def test_the_asking_clause_is_the_who_clause_that_ends_a_question() -> None:
    text = "my boss thinks the low-rank method came from openai, i'm not so sure - who published it first?"
    assert asking_clause(question_within(text)) == "who published it first?"


@pytest.mark.parametrize(
    "text",
    [
        # Found by a review of the shapes above: a verdict request with a "who" relative clause, a
        # quantifier that is no subject, a free relative after a lead-in, a verdict that points back.
        "Should we fine-tune a model for our nurses, who answer 300 calls a day?",
        "did some digging and qlora looks cheapest for our 7b. we want to tune it on 2k tickets.",
        "Did some tests on our 7b with 2k tickets last week, results were bad.",
        "We have 4 clinics, which are all of similar size, and want a bot for bookings.",
        "for our use case what is needed is a small model that runs offline.",
        "in our case what was missing was the labelled data for returns.",
        "What their customers need is their order status, fast.",
        "Our nurses write 300 notes a day, can it help them?",
    ],
)
def test_statements_and_verdict_requests_found_by_a_review_ask_nothing_beyond_it(text: str) -> None:
    question = question_within(text)
    assert question is None or not asks_beyond_the_verdict(question)


def test_a_follow_up_that_points_back_is_answered_with_what_the_conversation_told(core: Core) -> None:
    # "that pile" is the earlier message's generated rows. Read alone, the search found "The Pile"
    # (a pre-training corpus) and quoted Pythia; the second message points back in turn.
    history = [
        "a bigger model is writing about 4000 training rows for our payroll helpdesk bot from 30 we wrote ourselves",
        "is that an ok way to do it or does it count as cheating",
    ]
    for text in (
        "fine. so how much of that pile should someone on our side actually read through",
        "so what share of them do we need to look over by hand",
    ):
        reply = reply_from_events(core.respond("dataset", text, history), 0.0)
        first_quote = plain_answer(reply.answer.split("\n\n")[0])
        assert has_fact(first_quote, ["10%"]), text


def test_quotes_under_hyperparameters_give_no_other_learning_rate(core: Core) -> None:
    """A use case the hyperparameter rules answer, with nothing the course can answer beside it
    (advisor_dev9 o14: RoPE scaling): the quotes that replace a failed explanation gave "Full
    fine-tuning uses 1e-5 to 5e-5" under the recommendation's 2e-4."""
    text = (
        "our contracts model for a law firm in johannesburg needs longer context, 8k to 32k. for rope scaling do i "
        "go with yarn or just linear scaling with factor 4"
    )
    advice = core.advise_once("hyperparams", text)
    core.chat_model = lambda: FakeChatModel("Use 17 GPUs and a learning rate of 9.")  # fails the check
    final = final_answer(core.answer(advice, drafts=False))
    assert final.source == "extract"
    assert contradictions(plain_answer(final.explanation), advice.recommendation.claims()) == []
