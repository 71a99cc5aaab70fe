"""Course questions in the labs: classified, answered from the course, checked, refused or said to
be off the course. The course index is real; the model is the fake one (the real model's answers
are in tests/tutor/test_model_words.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import advisor_settings
from tutor import accounts
from tutor.advisors import ADVISORS
from tutor.advisors.answer_eval import plain_answer
from tutor.advisors.ask import (
    MODEL_CONTEXT_CHARS,
    Answered,
    Retrieved,
    classify,
    earlier_recommendation,
    extract_answer,
    known_word,
    mostly_foreign,
)
from tutor.advisors.base import AdvisorRequest, UploadedFile
from tutor.advisors.extractive import plain_units
from tutor.advisors.grounding import check_answer, contradictions, sentences
from tutor.advisors.names import unknown_choice, unmentioned_names
from tutor.advisors.turn import AnswerPiece, ModelReady, final_answer
from tutor.core import Core
from tutor.llm.fake import FakeChatModel


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory, shared_data_dir: Path) -> Iterator[Core]:
    tmp = tmp_path_factory.mktemp("ask")
    core = Core.start(advisor_settings(tmp, shared_data_dir, llm_backend="fake", mode="class"))
    accounts.add_user(core.store, "ada", "ada-password", "learner")
    yield core
    core.store.close()


def asked(core: Core, text: str, history: list[str] | None = None, reply: str | None = None):
    model = FakeChatModel(reply) if reply is not None else FakeChatModel()
    core.chat_model = lambda: model
    events = list(core.ask("strategy", text, history))
    return events, events[-1].answer, model


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("How much did the Alpaca fine-tune cost?", "question"),
        ("what file format should my training data be in?", "question"),
        ("when we get doctors to rate outputs should they know which model wrote which?", "question"),
        ("We process 50,000 clinical notes per day and need strict JSON. Is fine-tuning worth it?", "use_case"),
        ("I have a 7B model and one 24GB GPU.", "use_case"),
        ("i have my own gguf file, how do i get ollama to serve it", "question"),
        ("I have 8k support tickets, how do I split them for evaluation?", "use_case"),
        # A plain question, nothing of the learner in it: the reader once read it as a project (0.97).
        ("is it legal to scrape twitter posts for training data in brazil", "question"),
        ("Our product catalogue changes weekly; should we fine-tune on it?", "use_case"),
        ('Please check these:\n{"prompt": "2+2", "completion": "4"}', "use_case"),
        ("is it B?", "quiz_request"),
        # A training run's symptom told in words is a question the course answers (reading curves),
        # not a use case to decide an approach for; a pasted log is data (above).
        ("my loss goes down nicely but the eval loss climbs after the 2nd epoch, what's going on?", "question"),
        ("My validation loss started going up after epoch 3. Is that overfitting?", "question"),
        ("our training loss is stuck around 2.3 and won't move, why?", "question"),
        ("My model's loss went to NaN at step 300, why?", "question"),
        ("I'm seeing the training loss spike every few hundred steps, is that bad?", "question"),
        # (advisor_heldout8: "my loss plot looks like a seismograph" went to the rules as a case)
        ("my loss graph looks like a heart monitor the whole run, what should i change", "question"),
        # "loss", "diverge" and "overfit" in a use case's own sense stay use cases
        ("We're an insurer; we want replies drafted to our loss adjusters' reports in our house style.", "use_case"),
        ("Our loss prevention team writes incident reports; should we fine-tune on them?", "use_case"),
        ("We're training loss-prevention staff with a chatbot that answers from our manual.", "use_case"),
        ("Our discharge letters diverge from the standard template and the model keeps using it.", "use_case"),
        ("I'm worried a fine-tuned model would overfit to our templates; should we use RAG?", "use_case"),
        ("My team has 3,000 labelled contracts that cannot leave our servers.", "use_case"),
        # Someone else's claim put to the course, a "why", or a model's behaviour to explain: questions
        # the course answers, once sent to the rules as a use case with nothing to decide
        ("my lead says LoRA is always worse than a full fine-tune. is that true?", "question"),
        ("my cto keeps saying more epochs always help, who's right?", "question"),
        ("our prof claims 100 examples are enough for any task, right?", "question"),
        ("why can't my model learn a new output format from 30 examples?", "question"),
        ("my model parrots whole training examples back at me word for word, what's going on?", "question"),
        # ...and a claim told with no verdict asked for, about a method and not about their project
        ("my coworker says QLoRA makes the model dumber because of the 4 bit thing", "question"),
        ("my prof said merging the adapter always hurts quality", "question"),
        # A case of their own stays one, whoever asks for it
        (
            "My manager wants a bot that drafts replies to 2,000 support emails a day in our tone. Fine-tune?",
            "use_case",
        ),
        ("Our CEO says we must keep patient data on our own servers; we have 9k labelled notes.", "use_case"),
        ("my boss says we should fine-tune our support bot on last year's tickets", "use_case"),
        (
            "criminal defence: police interview transcripts of our client, model writes a short account of what "
            "the client said for the barrister's brief",
            "use_case",
        ),
        # Projects described in people's own words, not opening on "we" or "my": once answered from the
        # course, or told "the course does not cover that" (the learned reader, case_reader.py)
        (
            "vet clinic intake form - owners type the pet's history as free text, it should come out as fields",
            "use_case",
        ),
        ("Law firm. Pull the clauses out of supplier contracts and flag the risky ones for a partner.", "use_case"),
        # Questions the reader must leave alone
        ("is a lora adapter something i can share without the base model?", "question"),
        # The rules' cue words ("my", "10k") with nothing of the course in them: not a project
        ("my sourdough starter goes flat after two days, what am i doing wrong?", "question"),
    ],
)
def test_messages_are_told_apart(core: Core, text: str, kind: str) -> None:
    assert core.message_kind(AdvisorRequest(text)) == kind
    with_file = AdvisorRequest("what is this?", files=[UploadedFile("a.jsonl", "{}")])
    assert classify(with_file, core.quiz_guard()) == "use_case"


def test_a_course_question_gets_the_course_sentence_that_answers_it(core: Core) -> None:
    events, answer, model = asked(core, "How much did the Alpaca fine-tune cost?")
    assert [type(e) for e in events[:2]] == [Retrieved, ModelReady] and isinstance(events[-1], Answered)
    assert model.calls  # the model drafted first...
    assert "canned" in "".join(e.text for e in events if isinstance(e, AnswerPiece))
    assert (answer.source, answer.outcome, answer.grounded) == ("extract", "answer", True)  # ...and failed the check
    assert any("canned" in p for p in answer.problems)
    assert "$600" in answer.answer and "canned" not in answer.answer
    assert "what-is-fine-tuning" in {c.page_id for c in answer.citations}
    assert "Quoted from the course" in answer.text and "**Sources**" in answer.text
    data = answer.as_dict()
    assert {"answer", "citations", "passages", "model", "grounded", "source"} <= set(data)
    assert data["model"] == "fake model (tests only)" and data["passages"] and data["citations"][0]["link"]


def test_a_question_in_american_spelling_finds_the_courses_british_sentence(core: Core) -> None:
    """The lessons write "regularisation"; the learner's "regularization" is the same word when the
    quotes are ranked, so the sentence that names the remedy comes first."""
    _, answer, _ = asked(core, "any regularization trick so a full finetune keeps its general skills?", reply="")
    assert "Elastic Weight Consolidation (EWC)" in answer.answer.split("\n\n")[0]


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        # Everyday words for the course's terms ("step sizes", "add-on"), and shorthand ("lr").
        (
            "by how much were the step sizes people borrowed from big-model pretraining research too large for "
            "their adapter runs",
            "10–100×",
        ),
        ("is it ok to copy the lr from the original pretraining paper into our lora config", "10–100×"),
    ],
)
def test_a_question_in_everyday_words_finds_the_course_sentence_in_the_course_s_words(
    core: Core, text: str, fact: str
) -> None:
    _, answer, _ = asked(core, text, reply="")
    assert fact in answer.answer


def test_the_model_reads_the_sentences_that_answer_not_whole_passages(core: Core) -> None:
    """Issue 16: reading the prompt is most of the wait for the first word on a CPU, so the model
    gets the passages' best sentences (the fact among them), under their sections, not whole passages."""
    events, _, model = asked(core, "How much did the Alpaca fine-tune cost?")
    prompt = model.calls[-1][-1]["content"]
    course_text = prompt.split("Course passages:\n", 1)[1].rsplit("\n\nQuestion:", 1)[0]
    assert "spent less than $600" in course_text
    assert "[What Fine-Tuning Actually Is › Case study" in course_text.splitlines()[0]
    sentences = [line for line in course_text.splitlines() if line and not line.startswith("[")]
    assert sum(map(len, sentences)) <= MODEL_CONTEXT_CHARS
    assert sum(len(p.text) for p in events[0].asked.passages) > 3 * MODEL_CONTEXT_CHARS  # there was more to read
    # Every sentence shown is the course's own, word for word.
    units = {u for p in events[0].asked.passages for u in plain_units(p.text)}
    assert all(all(part in " ".join(units) for part in line.split(". ")) for line in sentences)
    # A follow-up's prompt holds what the follow-up asks about.
    _, _, model = asked(core, "what about QLoRA?", history=["What does LoRA train?"])
    assert "4-bit" in model.calls[-1][-1]["content"] or "NF4" in model.calls[-1][-1]["content"]


def test_a_draft_made_of_the_passages_is_shown_as_written(core: Core) -> None:
    first, _, _ = asked(core, "How much did the Alpaca fine-tune cost?")
    passage = first[0].asked.passages[0]
    sentence = plain_units(passage.text)[0]
    _, answer, _ = asked(core, "How much did the Alpaca fine-tune cost?", reply=sentence)
    words, _, evidence = answer.answer.partition("\n\nFrom the course:\n\n")
    assert (answer.source, words) == ("model", sentence)
    assert check_answer(words, [passage.text]).grounded
    assert evidence.startswith("> ") and "?open=" in evidence  # the best course sentence, quoted, as evidence
    assert "Checked against the course" in answer.text


def test_a_passing_draft_keeps_every_course_quote_the_learner_would_otherwise_read(core: Core) -> None:
    """A draft that passes the check is followed by the quotes a failing one gives way to, and no
    sentence is said twice."""
    first, _, _ = asked(core, "How much did the Alpaca fine-tune cost?")
    question = first[0].asked
    extract = extract_answer(question, core.quiz_guard(), core.quote_scorer())
    quotes = [line[2:] for line in extract.answer.splitlines() if line.startswith("> ") and not line.startswith("> —")]
    assert len(quotes) >= 2 and "$600" in extract.answer
    # A true sentence on another point, then the first sentence of the best quote itself.
    off_point = next(u for p in question.passages[1:] for u in plain_units(p.text) if "$600" not in u)
    best_first = sentences(quotes[0])[0]
    for draft in (off_point, best_first):
        _, answer, _ = asked(core, "How much did the Alpaca fine-tune cost?", reply=draft)
        assert answer.source == "model" and answer.answer.startswith(draft)
        said = [s for q in quotes for s in sentences(q)]
        assert all(answer.answer.count(s) == 1 for s in [*said, draft]), answer.answer


def test_a_failing_draft_stops_the_model_at_its_first_bad_sentence(core: Core) -> None:
    story = "I once taught a class of teachers in Harvard. " + "They loved it and came back every week. " * 30
    events, answer, _ = asked(core, "How much did the Alpaca fine-tune cost?", reply=story)
    streamed = "".join(e.text for e in events if isinstance(e, AnswerPiece))
    assert streamed.startswith("I once taught") and len(streamed) < 0.2 * len(story)
    assert answer.source == "extract" and "Harvard" not in answer.answer


def test_a_quiz_answer_request_gets_the_concept_never_an_option(core: Core) -> None:
    _, answer, model = asked(core, "what's the answer to question 2 of the lesson 1 quiz?")
    guard = core.quiz_guard()
    item = guard.target("question 2 of the lesson 1 quiz")
    assert answer.outcome == "refusal" and not model.calls  # no model for refusals
    assert "can't tell you which option is right" in answer.answer and answer.citations
    assert not guard.leaks(answer.answer) and not guard.leaks_item(answer.answer, item)
    _, bare, _ = asked(core, "is it B?")
    assert bare.outcome == "refusal" and "Ask me about the idea" in bare.answer


def test_a_refusal_for_a_named_quiz_item_sends_the_learner_to_that_items_lesson(core: Core) -> None:
    """The lesson 3 quiz's question 3 was refused with a link to the PEFT reference page: the concept
    was right, but the learner is sent back to the lesson the quiz follows, where the item's idea is
    taught."""
    guard = core.quiz_guard()
    wrong = []
    for item in guard.items:
        quiz = "the module test" if item.quiz_id == "module-test" else f"the {item.quiz_id.replace('-', ' ')} quiz"
        _, answer, _ = asked(core, f"which option is right in question {item.number} of {quiz}?")
        assert answer.outcome == "refusal"
        if item.lesson not in {c.page_id for c in answer.citations}:
            wrong.append((item.question_id, item.lesson, [c.page_id for c in answer.citations]))
    assert not wrong, wrong


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        # Once refused, then quoted "A drop means catastrophic forgetting": the choice, confirmed.
        (
            "for the exam: model does well on my task but worse on mmlu and hellaswag than the base. is that "
            "overfitting or catastrophic forgetting? need to submit in 5 min",
            r"catastrophic forgetting|overfit",
        ),
        # Once refused, then quoted "Typical amount: 500–5,000 examples": one of the listed choices.
        (
            "in the test theres a question on how many examples for a new output format like json, the choices are "
            "10-20, 50-500, 500-5000 and 10k+. which one",
            r"\b(?:500\s*[–-]\s*5,?000|50\s*[–-]\s*500)\b",
        ),
        # The same choice offered with no "?" (dev8, once held out: the refusal quoted "A drop means
        # catastrophic forgetting"), and an option's words typed without "X or Y".
        (
            "lesson 4 quiz - after tuning our model beats the base on the task but hellaswag went down. "
            "forgetting or overfitting to the val set, which one do they want",
            r"catastrophic forgetting",
        ),
        (
            "lesson 4 quiz, the hellaswag one: options are catastrophic forgetting, overfitting to the validation "
            "set, underfitting and a tokenizer bug. my pick is the first",
            r"catastrophic forgetting",
        ),
        # Choices in quotes (dev8): the refusal quoted "Agrees with humans at about 0.8+ correlation; does
        # not replace experts", which rules the second out. A figure an option of the item states is
        # as telling as the option's words.
        (
            "lesson 4 quiz, the judge one. is it the 'scales cheaply' option or the 'perfect agreement' one",
            r"0\.8|correlat|perfect|cheap",
        ),
        (
            'quiz question on LLM judges: I put "always agrees perfectly with experts", my friend put "scores '
            'thousands of outputs cheaply". who is right',
            r"0\.8|correlat|perfect|cheap",
        ),
    ],
)
def test_a_refusal_quotes_no_choice_the_learner_offered(core: Core, text: str, choice: str) -> None:
    _, answer, _ = asked(core, text)
    assert answer.outcome == "refusal"
    lines = answer.answer.splitlines()
    quoted = "\n".join(x for x in lines if x.startswith("> ") and not x.startswith("> — ["))  # not the links
    assert not re.search(choice, quoted, re.I), answer.answer
    # nor a linked section's title ("› Catastrophic forgetting"), nor a passage the sources panel lists
    assert not any(re.search(choice, c.section, re.I) for c in answer.citations), answer.answer
    assert not any(re.search(choice, p.section, re.I) for p in answer.passages)


def test_a_refusal_that_can_quote_nothing_still_reads_whole(core: Core) -> None:
    # Most lesson 1 section titles say "fine-tuning": a refusal may be left with little to quote or link.
    _, answer, _ = asked(core, "lesson 1 quiz: fine-tuning or prompting, which one")
    assert answer.outcome == "refusal"
    assert "try the question again: ." not in answer.answer and answer.answer.rstrip().endswith(".")


def test_an_off_course_question_says_so_and_names_the_nearest_section(core: Core) -> None:
    _, answer, model = asked(core, "how do I tune max_depth and n_estimators for a random forest in sklearn")
    assert answer.outcome == "off_course" and not model.calls
    assert answer.answer.startswith("The course does not cover that") and "?open=" in answer.answer
    assert "hyperparameters" in answer.citations[0].section.lower()  # the nearest section is about tuning


def test_a_question_far_from_every_section_names_none(core: Core) -> None:
    """A question about sourdough bread once named "LoRA: Low-Rank Adaptation" as the nearest
    section: a section that merely ranks first is not near."""
    _, answer, model = asked(core, "How do I bake sourdough bread?")
    assert answer.outcome == "off_course" and not model.calls
    assert answer.answer.startswith("The course does not cover that")
    assert "?open=" not in answer.answer and not answer.citations and "Lessons tab" in answer.answer


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("should I keep the embeddings in pinecone or weaviate for rag?", "off_course"),  # names the course never uses
        ("how do I tune max_depth of a random forest in sklearn", "off_course"),
        ("why do people prefer safetensors over pickle files?", "answer"),  # "pickle" is foreign, "safetensors" not
        ("what is NF4 short for?", "answer"),
        # Course topics in a learner's shorthand or with a typo: once told "the course does not cover that"
        ("dpo vs rlhf whats the diff", "answer"),  # "dpo" is short, "diff" foreign
        ("do i need to dedupe my dataset? how", "answer"),  # "dedupe": the course says "deduplication"
        ("what is gradient accumulation for", "answer"),
        ("gradient acumulation what is it for", "answer"),
        # Course topics in words the course term list lacks, once "not covered": a course sentence
        # comes close to each of them even when no passage as a whole does.
        ("what is leakage and why should i care", "answer"),
        ("whats the catch with just using an api", "answer"),
        ("arena scores, what kind of rating system is that? like chess elo?", "answer"),
        # Long words whose crude stem is a course word's ("module", "propri") are not course terms.
        ("why does my python script say ModuleNotFoundError for requests", "off_course"),
        ("whats the difference between an llc and a sole proprietorship", "off_course"),
        ("how do i stop my cat scratching the sofa", "off_course"),
        # A name the course says, word for word, in a question that is otherwise far from every
        # passage: once "the course does not cover that".
        ("what's EWC short for? it came up in lesson 3", "answer"),
        ("who wrote the shadow alignment paper and when", "answer"),
        # One clause of the question is near a course sentence, the whole message near none.
        (
            "We scraped 5,000 Q&A pairs from our forum and many are the same question reworded. how do I find those?",
            "answer",
        ),
        # Numbers are not names: "a 6 year old" is no course term.
        ("explain black holes to a 10 year old", "off_course"),
    ],
)
def test_near_the_border_of_the_course(core: Core, text: str, outcome: str) -> None:
    _, answer, _ = asked(core, text)
    assert answer.outcome == outcome, answer.answer


def test_a_name_the_learner_writes_is_searched_for_on_its_own(core: Core) -> None:
    """ "what's MMLU for?" was answered about GGUF files: in the whole message, "team" and
    "mentioned" outweighed "MMLU" in the keyword search, and no passage that says it was found."""
    events, answer, _ = asked(core, "what's MMLU for? someone mentioned it in our team meeting")
    assert any("MMLU" in p.text for p in events[0].asked.passages)
    assert "MMLU" in answer.answer.split("\n\n")[0]


@pytest.mark.parametrize(
    "text",
    ["everyone says what's the point of it", "my manager wants 10k so-so examples instead of 500, who's right"],
)
def test_contractions_numbers_and_doubled_words_are_not_foreign_names(core: Core, text: str) -> None:
    """ "what's", "who's", "10k" and "so-so" once counted as names the course never uses, and a
    message with two of them in five words read as off the course."""
    assert not mostly_foreign(text, core.course_index())


def test_a_long_word_is_the_course_s_only_when_the_course_says_nearly_all_of_it(core: Core) -> None:
    """ "tensorflow" counted as a course word because its crude stem is "tensors"' ("tensor"), so
    "tensorflow vs jax, which one should i learn first" was answered from the course (dev10)."""
    index = core.course_index()
    assert not known_word("tensorflow", index)
    assert not known_word("langchain", index)
    for word in ("hyperparameters", "hyperparmeters", "finetuning", "summarising", "quantization", "embeddings"):
        assert known_word(word, index), word
    _, answer, _ = asked(core, "tensorflow vs jax, which one should i learn first")
    assert answer.outcome == "off_course", answer.answer


@pytest.mark.parametrize(
    "text",
    [
        "does quantising a model hurt it much",
        "is summarizing a good task for fine-tuning",
        "why is my model memorizing the training set",
        "how does lora initialization work",
        "how does regularizing help with overfitting",
        "is tokenizing the same for every model",
        "which layers should i be unfreezing",
        "can i fine-tune on call transcripts",
    ],
)
def test_course_words_in_another_spelling_or_ending_are_still_the_course_s(core: Core, text: str) -> None:
    """The review of the long-word rule: a course word spelt the other side of the Atlantic or with
    another ending, and long plain words the embedder splits, read as names the course never says."""
    index = core.course_index()
    if "transcripts" not in text:  # a plain word the course never says, whole in the embedder's vocabulary
        assert all(known_word(w, index) for w in re.findall(r"[\w'-]+", text) if len(w) >= 9), text
    _, answer, _ = asked(core, text)
    assert answer.outcome != "off_course", answer.answer


def test_a_follow_up_is_read_with_the_conversation(core: Core) -> None:
    events, answer, _ = asked(core, "what about QLoRA?", history=["What does LoRA train?"])
    retrieved = events[0].asked
    assert retrieved.query == "What does LoRA train?\nwhat about QLoRA?"
    assert answer.outcome == "answer" and "QLoRA" in answer.answer
    # After a use case, the recommendation is in the context and heads the quoted answer.
    case = "We process 50,000 clinical notes per day and need strict JSON output."
    events, answer, _ = asked(core, "would qlora work for that?", history=[case])
    assert events[0].asked.recommendation is not None
    assert answer.answer.startswith("For your case, the advisor's recommendation reads: Approach:")
    # Beside a recommendation not to fine-tune, no quote reads as advice to fine-tune.
    case = "we'll take an open weight model, fine tune it and sell the result as part of our product"
    events, answer, _ = asked(core, "what do i need to check on the model card for that?", history=[case])
    claims = events[0].asked.claims()
    assert claims is not None and claims.fine_tune is False
    assert contradictions(plain_answer(answer.answer), claims) == []
    assert "model-landscape#reading-a-model-card" in answer.answer  # the section the question is about
    # A standalone course question after the use case still finds its own passage and sentence.
    events, answer, _ = asked(core, "How much did the Alpaca fine-tune cost?", history=[case])
    assert "$600" in answer.answer


def test_a_follow_up_that_points_back_is_ranked_by_what_it_points_at(core: Core) -> None:
    """A learner's check: "does it cost me anything in quality?" after a question about QLoRA was
    answered with LoRA's "99% of the quality for 1% of the cost". Alone, the follow-up is closest to
    that sentence; its "it" is QLoRA, which the course says trades speed for memory."""
    _, answer, _ = asked(core, "does it cost me anything in quality?", history=["what is QLoRA?"])
    assert answer.outcome == "answer"
    assert "99% of the quality" not in answer.answer
    assert "QLoRA" in answer.answer


@pytest.mark.parametrize("follow_up", ["which benchmarks specifically?", "which benchmarks in particular?"])
def test_a_follow_up_that_narrows_down_the_last_answer_is_read_with_it(core: Core, follow_up: str) -> None:
    """ "which benchmarks exactly?" after a question about forgetting was searched alone, where it is
    closest to llama.cpp's benchmark tool: "exactly" asks for the specifics of what came before."""
    history = ["what should I run to see whether my model lost its general skills after fine-tuning?"]
    events, answer, _ = asked(core, follow_up, history)
    assert events[0].asked.query == f"{history[0]}\n{follow_up}"
    assert "MMLU" in answer.answer and "llama-bench" not in answer.answer


def test_a_time_said_with_this_or_these_points_at_nothing_said_before(core: Core) -> None:
    """The review: "these days" made an everyday question a follow-up, read with the conversation and
    answered from the course."""
    _, answer, _ = asked(
        core, "What's a good pizza place near me these days?", ["What does the LoRA rank parameter control?"]
    )
    assert answer.outcome == "off_course", answer.answer


def test_a_follow_up_about_that_thing_is_read_with_the_conversation(core: Core) -> None:
    """advisor_heldout7's f03: "do i have to redo that whole file if we later swap llama out for
    mistral as the base", after asking how to lay out helpdesk chat logs for SFT, was searched alone
    and told the course does not answer it. "that whole file" is the one the learner just asked
    about; the course says the same chat-form file works whichever base model."""
    history = ["my data is chat logs from our helpdesk in manila, how should i lay it out for sft"]
    text = "do i have to redo that whole file if we later swap llama out for mistral as the base"
    events, answer, _ = asked(core, text, history)
    assert events[0].asked.query == f"{history[0]}\n{text}"
    assert answer.outcome == "answer"


CASE = "We process 50,000 clinical notes per day and need strict JSON output."


@pytest.mark.parametrize(
    "text",
    [
        "what about sourdough bread?",  # reads like a follow-up, asks about something else
        "and how do I bake sourdough bread?",
        "ok, and the weather in Lisbon tomorrow?",
        "and who won the football match?",  # "won" and "match" are words of the course too
    ],
)
def test_an_off_course_message_in_a_conversation_is_still_off_the_course(core: Core, text: str) -> None:
    _, answer, model = asked(core, text, history=[CASE])
    assert answer.outcome == "off_course" and not model.calls, answer.answer
    assert "recommendation" not in answer.answer


@pytest.mark.parametrize(
    ("text", "case"),
    [
        ("what about French notes?", CASE),
        ("and with 3 epochs?", CASE),
        ("what if we only have 200?", CASE),
        ("so how long would that take?", CASE),
        ("what about Dutch?", "A support bot for 3,000 Dutch tickets a day; we have 12k answered tickets."),
    ],
)
def test_a_follow_up_on_the_case_in_few_words_is_answered(core: Core, text: str, case: str) -> None:
    _, answer, _ = asked(core, text, history=[case])
    assert answer.outcome == "answer", answer.answer


def test_a_question_in_the_chat_is_stored_with_its_citations(core: Core) -> None:
    ada = core.viewer("ada")
    core.new_conversation(ada, "strategy")
    events = list(core.advisor_turn(ada, "strategy", "How much did the Alpaca fine-tune cost?"))
    final = events[-1]
    stored = core.conversation(ada, "strategy")[-1]
    assert (stored.role, stored.content) == ("assistant", final.text)
    assert stored.recommendation == "" and "what-is-fine-tuning" in stored.citations


CLINIC = (
    "We are a small clinic. We want a model that drafts discharge letters in our house style from the doctor's "
    "notes. The records must remain on our own hardware. We write about 2,000 letters a month and have 3,000 "
    "past letters with their notes."
)


OVERFIT = "my loss goes down nicely but the eval loss climbs after the 2nd epoch, what's going on?"


def test_a_follow_up_after_a_course_question_reads_no_recommendation_into_it(core: Core) -> None:
    # The earlier message was a question about a training curve: there is no use case to recall, so
    # the answer must not open on a decision the rules made from it ("prompting; method none").
    assert earlier_recommendation("strategy", [OVERFIT], core.quiz_guard()) is None
    _, answer, model = asked(core, "and how would early stopping help with that?", [OVERFIT])
    assert "recommendation" not in answer.answer
    assert not any("recommendation" in m["content"] for call in model.calls for m in call)


def test_a_what_if_on_the_case_reruns_the_rules_with_the_changed_fact(core: Core) -> None:
    guard = core.quiz_guard()
    what_if = "would that still hold if we only had 50 letters?"
    assert classify(AdvisorRequest(what_if, history=[CLINIC]), guard) == "use_case"
    assert classify(AdvisorRequest(what_if), guard) == "question"  # no case to change: a question
    assert classify(AdvisorRequest("what about QLoRA?", history=[CLINIC]), guard) == "question"
    before = final_answer(core.respond("strategy", CLINIC)).advice.recommendation
    after = final_answer(core.respond("strategy", what_if, [CLINIC])).advice.recommendation
    assert (before.approach, before.method) == (["prompting", "fine-tuning"], "lora")
    # 50 examples: under the course's ~100, a few-shot prompt comes first.
    assert (after.approach, after.method, after.data_needed.have) == (["prompting"], "none", 50)


def test_a_what_if_asked_as_a_question_reads_the_changed_case(core: Core) -> None:
    # `tutor ask … --after CASE` once answered "what if we only have like 60 of them" with the case's
    # first recommendation (LoRA, 500 to 5,000 examples), the changed count ignored.
    case = "we want to fine tune for our legal clause extraction, we have example contracts"
    events = list(core.ask("strategy", "what if we only have like 60 of them", [case]))
    answer = events[-1].answer
    assert "Approach: prompting;" in answer.text and "lora" not in answer.text.split("From the course")[0]


def test_the_recommendation_line_a_follow_up_quotes_holds_no_other_amount_of_data(core: Core) -> None:
    # Once "…reads: Approach: prompting + fine-tuning; Method: lora; Risk: Safety: about 100 harmful
    # examples were enough…" for "what would that even cost us?": another amount beside the decision's.
    case = "we're a 4 person legal-tech startup and thinking about training our own llm from scratch on contracts"
    guard = core.quiz_guard()
    recommendation = earlier_recommendation("strategy", [case], guard)
    asked_ = core._asked("strategy", core.advisor_request("ballpark, what would that even cost us?", None, [case]),
                         "question")  # fmt: skip
    answer = extract_answer(asked_, guard, core.quote_scorer())
    assert "harmful examples" not in answer.answer
    assert contradictions(plain_answer(answer.answer), recommendation.claims()) == []


SHOP = "we sell about 3,000 products and the prices change every week; customers ask our bot about prices all day"


@pytest.mark.parametrize("follow_up", ["should we just finetune that info into the model?"])
def test_quotes_under_a_recommendation_say_nothing_about_the_learners_data_that_it_does_not(
    core: Core, follow_up: str
) -> None:
    # "You have fewer than 100 examples" is a checklist line addressed to the learner: under a
    # prompting + RAG decision that gives another amount, it reads as a claim about their case.
    recommendation = earlier_recommendation("strategy", [SHOP], core.quiz_guard())
    assert recommendation is not None
    _, answer, _ = asked(core, follow_up, [SHOP])
    assert "recommendation reads" in answer.answer
    assert contradictions(plain_answer(answer.answer), recommendation.claims()) == []


def test_a_recommendation_line_quoted_in_a_follow_up_says_which_figures_were_assumed() -> None:
    """ "For your case, … about 8 GB of 24 GB (fits)" read as the learner's own GPU when they had named
    none: the 24 GB is the lab's assumption and the line a follow-up quotes must say so."""
    told = ADVISORS["hyperparams"].analyse(AdvisorRequest("Llama 3 8B, 2,000 support tickets to classify"))
    memory = next(line for line in told.facts_for_prompt() if line.startswith("Memory"))
    assert "assumed" in memory and "24 GB" in memory
    named = ADVISORS["hyperparams"].analyse(AdvisorRequest("Llama 3 8B, 2,000 tickets to classify, one 24GB GPU"))
    assert "assumed" not in next(line for line in named.facts_for_prompt() if line.startswith("Memory"))


def test_an_answer_says_first_when_the_course_never_mentions_what_was_asked_about(core: Core) -> None:
    """ "How do I fine-tune Stable Diffusion?" was answered with gradient-accumulation quotes and no
    word that the course never speaks of image models: the learner could read them as the recipe.
    The answer reader (answerable.py) now also finds that the course does not answer it at all."""
    _, answer, _ = asked(core, "How do I fine-tune Stable Diffusion?")
    assert answer.outcome == "off_course"
    assert answer.answer.startswith("The course does not answer that: it never mentions **Stable Diffusion**")
    _, known, _ = asked(core, "How much did the Alpaca fine-tune cost?")  # a name the course says: no note
    assert "does not mention" not in known.answer and "$600" in known.answer


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("What LoRA rank should I use for Qwen2.5 7B?", ["Qwen2.5 7B"]),
        ("Can I fine-tune Whisper for Dutch speech?", ["Whisper", "Dutch"]),
        ("How Do I Fine-Tune A Model With LoRA On Colab?", []),  # Title Case names nothing
        ("half my examples write dates MM/DD/YYYY, does that matter", []),  # a notation
        ("trainer keeps giving me the LAST checkpoint not the best one", []),  # emphasis
        ("lesson 1 writes A @ B but the peft page writes BA", []),
        ("What did Alpaca and Vicuna cost to train with LoRA?", []),  # the course's own names
    ],
)
def test_names_the_course_never_says(core: Core, text: str, names: list[str]) -> None:
    assert unmentioned_names(text, core.course_index()) == names


@pytest.mark.parametrize(
    ("text", "authors"),
    [
        ("who came up with lora in the first place? need the group for my report", "Hu et al"),
        ("the dpo method, whos it by?", "Rafailov"),
    ],
)
def test_a_question_about_who_made_a_method_quotes_its_authors(core: Core, text: str, authors: str) -> None:
    """ "Who came up with LoRA?" was answered with the Mistral learning-rate story: no word of the
    question is the authors' names, and the sentence that gives them was not even retrieved."""
    _, answer, _ = asked(core, text)
    assert authors in answer.answer, answer.answer


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("why can a hundred nasty examples undo all that rlhf work?", "suppresses"),
        ("why do we warm up the learning rate at the start", "starts at zero"),
    ],
)
def test_a_why_question_quotes_the_reason_the_course_gives(core: Core, text: str, reason: str) -> None:
    """ "Why is it so easy to undo safety training?" was answered with "RLHF takes thousands of hours",
    which shares its topic; the sentence that says why ("Alignment suppresses harmful outputs…") is
    the answer."""
    _, answer, _ = asked(core, text)
    assert reason in answer.answer, answer.answer


def test_a_relative_who_asks_nothing_about_authors() -> None:
    from tutor.advisors.extractive import ASKS_WHO

    assert not ASKS_WHO.search("My teammate who developed our eval says rank 64 is better. Is that right?")
    assert not ASKS_WHO.search("I'm a teacher who wrote 500 essay grades, how many do I need?")
    assert ASKS_WHO.search("who came up with lora?") and ASKS_WHO.search("dpo paper - whos it by?")
    assert ASKS_WHO.search("dpo paper — who and what year?")


def test_a_question_shaped_use_case_with_a_volume_may_still_be_read_as_one() -> None:
    from tutor.advisors.case_reader import weigh

    assert weigh(False, 0.99, "How should a clinic triage 300 patient messages a day with an LLM?")
    assert not weigh(False, 0.99, "is it legal to scrape twitter posts for training data in brazil")


def test_a_follow_up_that_asks_in_its_last_clause_is_no_use_case() -> None:
    """advisor_heldout7's f08, after a question about court-judgment summaries: "and for the human side
    of it, who does the rating and how" (the reader: 0.98 a use case) got a second evaluation suite,
    not the course's answer. A question word opens its last clause and it says nothing of the learner."""
    from tutor.advisors.case_reader import weigh

    assert not weigh(False, 0.98, "and for the human side of it, who does the rating and how")
    assert not weigh(False, 0.98, "ok and then for the judge part, which model should do the scoring")
    # a description that says something of the learner's project stays the reader's to decide
    assert weigh(False, 0.98, "Support replies for our bank's app, how do we check them")
    assert weigh(False, 0.98, "Clinic letters into JSON, 2,000 a day, what would you test")
    # another project told after "so"/"and", however it ends (the review)
    assert weigh(
        False, 0.98, "So the client is a law firm, the bot drafts NDAs from a term sheet, what would you recommend?"
    )
    assert weigh(
        False,
        0.98,
        "Ok so the model reads scanned supplier invoices and fills the ERP fields, how should it be trained?",
    )
    # a description whose last clause opens on a question word is no question ("who it's shared with")
    assert weigh(False, 0.98, "It reads privacy policies and pulls out what data is collected, who it's shared with")
    assert weigh(False, 0.98, "It pulls out what data is collected, who it's shared with")


def test_a_question_after_a_hedge_or_a_short_pointer_at_the_course_is_no_use_case() -> None:
    """advisor_heldout8 and heldout6: "roughly how many community made low-rank add ons are sitting on
    hugging face these days" and "in the grading-with-a-bigger-model setup, which answers get sent on to
    a real person" went to the rules as use cases. A hedge before the question word, or a lead-in that
    says where in the course ("in the …, which …"), still asks, when the message says nothing of the
    learner."""
    from tutor.advisors.case_reader import weigh

    assert not weigh(False, 0.98, "approximately how many parameters does the small gemma have")
    assert not weigh(False, 0.98, "in the table of quantization types, which one keeps the most quality")
    assert not weigh(False, 0.98, "for the shadow deployment step, how long should it run")
    # "any good …" asks too (advisor_heldout8: a question about stretches for back pain got an evaluation suite)
    assert not weigh(False, 0.98, "any good podcasts about cooking for a long drive")
    assert not weigh(False, 0.98, "any tips for picking the lora rank")
    assert not weigh(False, 0.98, "in lesson 4, which hosting option is cheapest")
    # (the review) descriptions that open the same way stay the reader's: a place that is no part of the
    # course, a hedge before a free relative ("what it does is…"), "any good reviews"
    for case in (
        "In the clinic, which notes need a follow-up call get flagged for the nurse",
        "At the bank, which queue each support ticket goes to",
        "For the insurer, which claims look fraudulent. Adjusters review the flagged ones by hand.",
        "Basically what it does is summarise discharge notes for GPs. The notes are long and messy.",
        "Just what the sales team needs: call summaries pushed into Salesforce after each call.",
        "Roughly how it works: tickets come in by email, the model picks a queue",
        "Any good reviews get forwarded to marketing, bad ones to support",
    ):
        assert weigh(False, 0.98, case), case
    # the learner's own project in the lead-in stays the reader's to decide
    assert weigh(False, 0.98, "in our clinic, which notes should the model summarise")
    assert weigh(False, 0.98, "for a lending app with 3,000 chats a day, which model should do it")


def test_a_loss_graph_is_a_training_symptom_only_when_it_is_the_run_s() -> None:
    """(the review) "a hearing loss graph", "the profit and loss chart" are a case's data, not a run's curve."""
    from tutor.advisors.ask import _TRAINING_SYMPTOM

    assert _TRAINING_SYMPTOM.search("my loss graph looks like a heart monitor the whole run")
    assert _TRAINING_SYMPTOM.search("the validation loss plot went flat after epoch 2")
    for case in (
        "Audiology clinic: the model reads a hearing loss graph and drafts the letter to the patient",
        "Monthly profit and loss chart, the model writes the commentary for the CFO pack",
        "Packet loss graph from the network monitor, the bot explains outages to the helpdesk",
        "I coach clients on weight loss and want a bot to comment on their weight loss graph",
    ):
        assert not _TRAINING_SYMPTOM.search(case), case


def test_the_evaluation_finds_a_fact_said_in_another_form_of_its_word() -> None:
    """A held-out item's fact "suppress" was missed in "Alignment suppresses harmful outputs": the
    fact is a word, and its -s or -es form says it; another word that starts with it does not."""
    from tutor.advisors.answer_eval import has_fact

    assert has_fact("Alignment suppresses harmful outputs.", ["suppress"])
    assert has_fact("The adapter is tied to one base model.", ["tie"]) is False  # "tied" is not "tie" + ending
    assert has_fact("It was merged into the base.", ["merge"]) is False
    assert has_fact("Below 3, a human reviews it.", ["below 3"]) and not has_fact("Below 30.", ["below 3"])
    assert not has_fact("suppression of outputs", ["suppress"])


def test_the_evaluation_finds_a_range_of_factors_said_with_its_times_sign() -> None:
    """A dev item's fact "10–100" was missed in "the rates were 10–100× too high": the times sign
    after a number is read as the letter x, and "100x" is no word that "100" ends."""
    from tutor.advisors.answer_eval import has_fact

    assert has_fact("The rates were 10–100× too high for LoRA.", ["10–100"])
    assert has_fact("It is 3x faster.", ["3x"]) and has_fact("It is 3× faster.", ["3x"])
    assert not has_fact("The rates were 10–1000× too high.", ["10–100"])
    assert not has_fact("Use 100xl cards.", ["100"])
    assert not has_fact("Use 100x more data.", ["100"])  # a count is no factor (a review)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("hqq or eetq kernels for serving our 4 bit model, which is quicker", ["hqq", "eetq"]),
        ("should our team pick simpo vs ipo for the preference step", ["simpo", "ipo"]),
        ("between megatron and colossalai, which one shards a 70b better", ["megatron", "colossalai"]),
    ],
)
def test_a_choice_between_names_the_course_never_mentions_is_off_the_course(
    core: Core, text: str, names: list[str]
) -> None:
    assert unknown_choice(text, core.course_index()) == names
    _, answer, _ = asked(core, text, reply="")
    assert answer.outcome == "off_course"
    assert all(f"**{name}**" in answer.answer for name in names)


@pytest.mark.parametrize(
    "text",
    [
        # The course names one side or both, or the sides are plain words.
        "q4_k_m or q5_k_m, which one is the usual pick",
        "lora or qlora for a 7b on one 24gb card",
        "should i keep training or stop now that validation loss rises",
        "dpo or orpo for our preference pairs",
        # Course words typed without their hyphen.
        "is there an analogy for pretraining vs finetuning for my boss",
        # Found by a review: a choice mentioned, not asked about; names the course writes another
        # way (a version number, British spelling, a hyphen, an -ing form).
        "i train with axolotl or unsloth, what learning rate should i use for lora?",
        "we tried gptq or awq last month, how much memory does qlora need for a 7b?",
        "gpt4 or gpt4o as the teacher for synthetic data, which is better",
        "quantisation or pruning, which one shrinks it more",
        "early-stopping or checkpointing, which matters more",
    ],
)
def test_a_choice_the_course_can_speak_to_is_not_read_as_off_the_course(core: Core, text: str) -> None:
    assert unknown_choice(text, core.course_index()) == []
