"""Advisor turns through the Core: stored conversations, instructor access, and clear messages
for bad input (empty, oversized, binary, malformed)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from labs.advisor_tab import chat_updates
from tests.conftest import advisor_settings
from tutor import accounts
from tutor.advisors import AdvisorInputError, strategy
from tutor.advisors.extractive import plain_units
from tutor.advisors.history import CUT_OFF
from tutor.advisors.service import explain
from tutor.advisors.turn import (
    AnswerPiece,
    Drafted,
    FinalAnswer,
    ModelFailed,
    ModelReady,
    Queued,
    Recommended,
    final_answer,
)
from tutor.core import AccessError, Core, recommendation_of
from tutor.learner_jobs import LearnerBusy
from tutor.llm import LLMError
from tutor.llm.fake import FakeChatModel


@pytest.fixture
def core(tmp_path: Path, shared_data_dir: Path) -> Iterator[Core]:
    core = Core.start(advisor_settings(tmp_path, shared_data_dir, llm_backend="fake", mode="class"))
    accounts.add_user(core.store, "ada", "ada-password", "learner")
    accounts.add_user(core.store, "bob", "bob-password", "learner")
    accounts.add_user(core.store, "grace", "grace-password", "instructor")
    yield core
    core.store.close()


def test_a_turn_is_stored_and_follow_ups_keep_the_facts(core: Core) -> None:
    ada = core.viewer("ada")
    turn = core.start_advice(ada, "hyperparams", "Mistral 7B on one A100 40GB for JSON extraction.")
    assert [m.role for m in core.conversation(ada, "hyperparams")] == ["user"]  # stored before the model runs
    assert turn.advice.passages and turn.advice.recommendation.citations[0].page_title
    text = "".join(explain(core.chat_model(), turn.advice, max_new_tokens=50, temperature=0))
    assert "Recommendation:" in core.chat_model().calls[-1][1]["content"]  # the rules' result is in the prompt
    assert "Course passages:" in core.chat_model().calls[-1][1]["content"]
    core.finish_advice(ada, turn, "answer " + text, model="fake")
    follow_up = core.start_advice(ada, "hyperparams", "We have 3,000 examples.")
    assert follow_up.conversation_id == turn.conversation_id
    assert follow_up.advice.recommendation.parameters_billion == 7.0  # from the first message
    assert follow_up.advice.recommendation.examples == 3000
    assert [m.role for m in core.conversation(ada, "hyperparams")] == ["user", "assistant", "user"]
    core.new_conversation(ada, "hyperparams")
    assert core.conversation(ada, "hyperparams") == []


def test_a_chat_turn_streams_events_and_stores_the_final_answer(core: Core) -> None:
    """The fake model's canned sentence is not in the course: it streams as a draft, fails the
    check, and the course's own sentences (quoted, with their sections) replace it."""
    ada = core.viewer("ada")
    events = core.advisor_turn(ada, "strategy", strategy.LAB.try_prompt)
    # Stored before anything streams: the message, and its answer's row marked cut off until it ends.
    stored = core.conversation(ada, "strategy")
    assert [(m.role, m.content, m.error) for m in stored] == [
        ("user", strategy.LAB.try_prompt, ""),
        ("assistant", "", CUT_OFF),
    ]
    events = list(events)
    kinds = [type(event) for event in events]
    assert kinds[:2] == [Recommended, ModelReady] and kinds[-1] is FinalAnswer
    assert set(kinds[2:-1]) == {AnswerPiece}
    first, final = events[0], events[-1]
    assert first.markdown == first.advice.recommendation.markdown() and "SFT with LoRA" in first.markdown
    streamed = "".join(event.text for event in events if isinstance(event, AnswerPiece))
    assert streamed == "This is a canned explanation from the fake test model."
    assert (final.grounded, final.source) == (False, "extract")
    assert any("canned" in problem and "fake" in problem for problem in final.problems), final.problems
    assert "canned" not in final.explanation and final.explanation.startswith("> ")
    quoted = [line[2:] for line in final.explanation.splitlines() if line.startswith("> ") and "— [" not in line]
    passages = "\n".join(" ".join(p.text.split()) for p in first.advice.passages)
    assert quoted and all(q.rstrip(".")[:40] in passages.replace("**", "") for q in quoted)  # the course's words
    assert "Quoted from the course" in final.note
    # Course quotes are not put under the model's name, and a quote opens on a line of its own (a
    # newcomer saw "*SmolLM2… explains:* > Legal: …", a literal ">" credited to the model).
    assert final.text == (
        f"{first.markdown}\n\n---\n*From the course:*\n\n{final.explanation}{final.note}"
        f"\n\n**Sources**\n{first.sources}"
    )
    assert "explains" not in final.text
    assert len(core.conversation(ada, "strategy")) == 2  # the answer replaced its cut-off row
    stored = core.conversation(ada, "strategy")[-1]
    assert (stored.role, stored.content, stored.model, stored.error) == ("assistant", final.text, final.model, "")
    assert recommendation_of(stored)["method"] == "lora" and stored.citations


def test_a_turn_cut_off_mid_stream_keeps_the_question_and_the_recommendation(core: Core) -> None:
    """Issue 15, item 7: the answer was stored only after streaming ended, so a closed page lost it.
    Now the recommendation (settled by the rules) is kept at once; the unchecked draft never is."""
    ada = core.viewer("ada")
    events = core.advisor_turn(ada, "strategy", strategy.LAB.try_prompt)
    for event in events:
        if isinstance(event, AnswerPiece):
            break  # the page closed while the model was writing
    events.close()  # what dropping the generator does
    user, answer = core.conversation(ada, "strategy")
    assert user.content == strategy.LAB.try_prompt
    assert answer.error == CUT_OFF and "SFT with LoRA" in answer.content and "canned" not in answer.content
    assert recommendation_of(answer)["method"] == "lora" and answer.citations != "[]"
    # The learner can ask again at once: the cut-off turn released their slot.
    assert isinstance(list(core.advisor_turn(ada, "strategy", "And with 2,000 examples?"))[-1], FinalAnswer)


def test_one_answer_at_a_time_per_learner(core: Core) -> None:
    """Issue 15, item 5: one learner could queue many advisor jobs and make the class wait."""
    ada, bob = core.viewer("ada"), core.viewer("bob")
    first = core.advisor_turn(ada, "strategy", strategy.LAB.try_prompt)
    next(first)  # being answered
    with pytest.raises(LearnerBusy, match="you already have an advisor answer under way"):
        core.advisor_turn(ada, "dataset", "Another question meanwhile?")
    assert [m.role for m in core.conversation(ada, "dataset")] == []  # the refused one is not stored
    assert isinstance(list(core.advisor_turn(bob, "strategy", strategy.LAB.try_prompt))[-1], FinalAnswer)
    list(first)
    assert isinstance(list(core.advisor_turn(ada, "dataset", "Is 300 rows enough for a new format?"))[-1], FinalAnswer)


def test_a_learner_who_asks_while_another_answer_is_written_sees_their_place(core: Core) -> None:
    """Issue 16: with one model, a second learner's answer waits for the first; the chat says how
    many answers are ahead instead of showing nothing, and the answer starts by itself."""
    writing, release = threading.Event(), threading.Event()
    order: list[str] = []

    class OneModel(FakeChatModel):  # Ada's answer takes until released; Bob's is instant
        def stream(self, messages, *, max_new_tokens, temperature):
            slow = threading.current_thread() is not threading.main_thread()
            order.append("ada starts" if slow else "bob starts")
            try:
                if slow:
                    writing.set()
                    release.wait(60)
                yield from super().stream(messages, max_new_tokens=max_new_tokens, temperature=temperature)
            finally:  # the check may stop a draft early: the model's stream is closed, not finished
                order.append("ada ends" if slow else "bob ends")

    core.chat_model = lambda: OneModel()
    ada, bob = core.viewer("ada"), core.viewer("bob")
    first: list = []
    turn = core.advisor_turn(ada, "strategy", strategy.LAB.try_prompt)
    answering = threading.Thread(target=lambda: first.extend(turn))
    answering.start()
    try:
        assert writing.wait(60)
        events = core.advisor_turn(bob, "strategy", "Strict JSON output at 50,000 requests per day.")
        history = [{"role": "user", "content": "Strict JSON output at 50,000 requests per day."}]
        shown = chat_updates(events, history)
        next(shown)  # the recommendation, at once
        next(shown)  # then Bob's place in the line, where the answer will be
        assert "1 answer is being written ahead of yours; yours starts by itself." in history[-1]["content"]
        assert "SFT with LoRA" in history[-1]["content"]  # the recommendation stays above it
    finally:
        release.set()
    rest = list(shown)
    answering.join(60)
    assert order == ["ada starts", "ada ends", "bob starts", "bob ends"]  # Bob's model waited for Ada's
    assert isinstance(first[-1], FinalAnswer) and Queued not in {type(e) for e in first}  # the first never waited
    assert rest and "ahead of yours" not in history[-1]["content"] and "**Sources**" in history[-1]["content"]
    assert core.model_line.waiting() == 0


def test_an_explanation_made_of_the_course_passes_the_check_as_written(core: Core) -> None:
    advice = core.advise_once("strategy", strategy.LAB.try_prompt)
    sentence = plain_units(advice.passages[0].text)[0]
    core.chat_model = lambda: FakeChatModel(sentence)
    final = final_answer(core.answer(advice, drafts=False))
    assert (final.grounded, final.source, final.problems) == (True, "model", ())
    assert final.explanation == sentence and "Checked against the course" in final.note


def test_an_explanation_that_contradicts_the_recommendation_is_not_shown(core: Core) -> None:
    advice = core.advise_once("strategy", strategy.LAB.try_prompt)
    assert advice.recommendation.method == "lora"
    core.chat_model = lambda: FakeChatModel("You should use full fine-tuning for this.")
    final = final_answer(core.answer(advice, drafts=False))
    assert final.source == "extract" and any("contradicts the recommendation" in p for p in final.problems)
    assert "full fine-tuning" not in final.explanation.split("— [")[0]


def test_a_model_failure_becomes_a_note_and_the_recommendation_stands(core: Core) -> None:
    def no_model():
        raise LLMError("no model here")

    core.chat_model = no_model
    ada = core.viewer("ada")
    events = list(core.advisor_turn(ada, "strategy", "Strict JSON output at 50,000 requests per day."))
    assert [type(event) for event in events] == [Recommended, ModelFailed, FinalAnswer]
    final = events[-1]
    assert (final.model, final.explanation, final.error) == ("", "", "no model here")
    assert final.text == (
        events[0].markdown + "\n\n⚠️ The model could not answer (no model here). The recommendation above comes "
        "from the course's rules and stands on its own.\n\n**Sources**\n" + events[0].sources
    )
    stored = core.conversation(ada, "strategy")[-1]
    assert (stored.content, stored.model, stored.error) == (final.text, "", "no model here")


def test_the_chat_drafts_examples_and_the_api_does_not(core: Core) -> None:
    drafter = FakeChatModel('{"input": "5+5", "output": "10"}')
    core.chat_model = lambda: drafter
    ada = core.viewer("ada")
    text = 'Please generate more examples like these:\n{"prompt": "2+2", "completion": "4"}'
    events = list(core.advisor_turn(ada, "dataset", text))
    drafted = [event for event in events if isinstance(event, Drafted)]
    assert [d.drafts for d in drafted] == [['{"input": "5+5", "output": "10", "draft": true}']]
    final = events[-1]
    assert final.explanation.endswith(drafted[0].text) and "review every one before use" in final.text
    assert recommendation_of(core.conversation(ada, "dataset")[-1])["drafts"] == drafted[0].drafts
    advice = core.advise_once("dataset", text)
    once = final_answer(core.answer(advice, drafts=False))
    assert advice.recommendation.drafts == []
    # The drafter's reply is not a sentence, so as an explanation it is left out, and the learner is told.
    assert once.explanation == "" and "stopped before it finished a sentence" in once.note


def test_the_final_answer_keeps_only_complete_sentences(core: Core) -> None:
    advice = core.advise_once("strategy", strategy.LAB.try_prompt)
    sentence = plain_units(advice.passages[0].text)[0]  # a sentence of the course: it passes the check
    core.chat_model = lambda: FakeChatModel(f"{sentence} It saves memory because the base")
    events = list(core.answer(advice, drafts=False))
    streamed = "".join(event.text for event in events if isinstance(event, AnswerPiece))
    assert streamed.endswith("because the base")  # the draft streams as the model writes it...
    final = events[-1]
    assert final.explanation == sentence  # ...the final answer ends on a full stop
    assert final.source == "model" and final.text.count("because the base") == 0


def test_instructors_read_conversations_learners_only_their_own(core: Core) -> None:
    ada, bob, grace = core.viewer("ada"), core.viewer("bob"), core.viewer("grace")
    turn = core.start_advice(ada, "strategy", "Is fine-tuning worth it for strict JSON at 50,000 notes per day?")
    with pytest.raises(AccessError):
        core.read_conversation(bob, turn.conversation_id)
    with pytest.raises(AccessError):
        core.finish_advice(bob, turn, "hijack")
    with pytest.raises(AccessError):
        core.advisor_conversations(ada)
    rows = core.advisor_conversations(grace, lab="strategy")
    assert [(r.username, r.lab, r.messages) for r in rows] == [("ada", "strategy", 1)]
    assert rows[0].title.startswith("Is fine-tuning worth it")
    assert core.read_conversation(grace, turn.conversation_id)[0].content.startswith("Is fine-tuning")
    assert core.read_conversation(ada, turn.conversation_id)


def test_bad_input_gets_clear_messages_and_nothing_is_stored(core: Core, tmp_path: Path) -> None:
    ada = core.viewer("ada")
    with pytest.raises(AdvisorInputError, match="empty"):
        core.start_advice(ada, "strategy", "   ")
    with pytest.raises(AdvisorInputError, match=r"1,000,000 characters; the limit is 100,000"):
        core.start_advice(ada, "dataset", "x" * 1_000_000)
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(AdvisorInputError, match=r"model\.bin looks like a binary file"):
        core.start_advice(ada, "dataset", "check this", [binary])
    latin = tmp_path / "data.csv"
    latin.write_bytes(b"prompt,completion\nok,fine\ncaf\xe9,bad\n")
    with pytest.raises(AdvisorInputError, match=r"data.csv:3: not UTF-8"):
        core.start_advice(ada, "dataset", "check", [latin])
    assert core.conversation(ada, "dataset") == []
    with pytest.raises(KeyError, match="no advisor lab"):
        core.start_advice(ada, "nope", "hi")


def test_malformed_jsonl_is_critiqued_not_crashed(core: Core, tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "c", \n\n[1, 2]\n')
    advice = core.advise_once("dataset", "", [data])
    assert [(i.kind, i.line) for i in advice.recommendation.issues] == [("invalid_json", 2), ("schema", 4)]


def test_an_unreachable_chroma_server_still_gives_a_cited_answer(tmp_path: Path, shared_data_dir: Path) -> None:
    from tests.conftest import free_port

    settings = advisor_settings(
        tmp_path, shared_data_dir, llm_backend="fake", chroma_url=f"http://127.0.0.1:{free_port()}"
    )
    core = Core.start(settings)
    try:
        advice = core.advise_once("strategy", "Strict JSON output at 50,000 requests per day.")
    finally:
        core.store.close()
    assert advice.passages == [] and advice.recommendation.citations
    assert any(
        "Course search is unavailable (cannot reach the Chroma server" in n for n in advice.recommendation.notes
    )


@pytest.mark.parametrize(
    "text",
    [
        "Prompting or fine-tuning for our intranet search? The pages change every day.",
        "editors chose the better of two headlines ~3k times, could we train on that? ~150 headlines/day",
    ],
)
def test_a_project_asked_as_a_question_in_the_strategy_lab_is_not_off_the_course(core: Core, text: str) -> None:
    """Told "the course does not cover this", a learner asking about their own project learns
    nothing: the course answers it, or the rules read what it says (dev13's routing misses, in
    other words)."""
    advice, asked = core._prepare("strategy", core.advisor_request(text, None, []))
    assert advice is not None or (asked is not None and asked.outcome != "off_course")


@pytest.mark.parametrize(
    "text",
    [
        "What is the best recipe for sourdough bread?",
        # a review's over-reaches: a number, "from scratch" or "fine-tune" alone tells no project
        "How do I make pizza dough from scratch?",
        "I feed my sourdough starter 2x a day and it keeps dying",
        "I invoice 10k a month freelancing, how much tax do I owe?",
        "Unsloth or Axolotl to fine-tune Llama?",
        "How do I fine-tune on a Mac with MLX?",
    ],
)
def test_an_off_course_question_in_the_strategy_lab_gets_no_recommendation(core: Core, text: str) -> None:
    advice, _ = core._prepare("strategy", core.advisor_request(text, None, []))
    assert advice is None


@pytest.mark.parametrize(
    "text",
    [
        "It reads each vet clinic referral email and fills species, breed, age and presenting complaint into our "
        "practice system. Phi-3 mini, LoRA, 2,000 labelled referrals. How should I test it?",
        "Our model writes the weekly newsletter for a climbing gym from the route setters' notes. What metrics "
        "should we use before it goes live?",
    ],
)
def test_a_model_described_then_how_to_test_it_gets_the_eval_suite(core: Core, text: str) -> None:
    """A learner in the evaluation lab who describes their model and asks how to test it was told "the
    course does not answer that: it never mentions Phi-3": the closing how-question made it a course
    question. The designer builds the suite for it."""
    advice, _ = core._prepare("eval", core.advisor_request(text, None, []))
    assert advice is not None


@pytest.mark.parametrize(
    "text",
    [
        "How do I check that fine-tuning did not make the model worse at general tasks?",
        "How should I test a model before it goes live, according to the course?",
    ],
)
def test_a_course_question_in_the_evaluation_lab_stays_a_question(core: Core, text: str) -> None:
    advice, asked = core._prepare("eval", core.advisor_request(text, None, []))
    assert advice is None and asked is not None


def test_a_model_described_then_how_to_test_it_stays_the_case_a_follow_up_builds_on(core: Core) -> None:
    """The designer took "…fills species, breed and age into our practice system. How should I test
    it?" as the model to test, so the follow-up that adds stakes must be read with it: the history
    filter dropped it as a course question, and the follow-up alone was the whole case."""
    first = (
        "It reads each vet clinic referral email and fills species, breed, age and presenting complaint into "
        "our practice system. Phi-3 mini, LoRA, 2,000 labelled referrals. How should I test it?"
    )
    request = core.advisor_request(
        "Our vets act on these records, so a wrong species could hurt an animal.", None, [first]
    )
    advice, _ = core._prepare("eval", request)
    assert advice is not None
    assert advice.request.history == [first]
    assert advice.recommendation.task_type == "structured extraction"
