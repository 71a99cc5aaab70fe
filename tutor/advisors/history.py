"""Advisor conversations in the database: the learner's messages and the advisors' answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select

from tutor.store import Store
from tutor.tables import AdvisorConversation, AdvisorMessage, User


@dataclass(frozen=True)
class ConversationRow:
    id: int
    username: str
    lab: str
    title: str
    started_at: datetime
    messages: int


def current_conversation(store: Store, user_id: int, lab: str) -> int | None:
    with store.session() as session:
        return session.exec(
            select(AdvisorConversation.id)
            .where(AdvisorConversation.user_id == user_id, AdvisorConversation.lab == lab)
            .order_by(col(AdvisorConversation.id).desc())
        ).first()


def start_conversation(store: Store, user_id: int, lab: str, title: str = "") -> int:
    with store.session() as session:
        conversation = AdvisorConversation(user_id=user_id, lab=lab, title=title[:120])
        session.add(conversation)
        session.commit()
        assert conversation.id is not None
        return conversation.id


def owner_of(store: Store, conversation_id: int) -> tuple[int, str] | None:
    with store.session() as session:
        conversation = session.get(AdvisorConversation, conversation_id)
        return (conversation.user_id, conversation.lab) if conversation else None


def add_message(
    store: Store,
    conversation_id: int,
    role: str,
    content: str,
    *,
    files: list[str] | None = None,
    recommendation: str | None = None,
    citations: list[dict] | None = None,
    model: str = "",
    error: str = "",
) -> int:
    with store.session() as session:
        conversation = session.get(AdvisorConversation, conversation_id)
        if conversation is not None and not conversation.title and role == "user":
            conversation.title = content.strip().splitlines()[0][:120] if content.strip() else "(files)"
            session.add(conversation)
        message = AdvisorMessage(
            conversation_id=conversation_id,
            role=role,
            content=content,
            files=json.dumps(files or []),
            recommendation=recommendation,
            citations=json.dumps(citations or []),
            model=model[:200],
            error=error,
        )
        session.add(message)
        session.commit()
        assert message.id is not None
        return message.id


# The error an answer carries from the moment it starts until it is finished: a dropped connection
# or a stopped server leaves the question, what was already settled (a use case's recommendation)
# and this note, never an unchecked draft.
CUT_OFF = "the answer was cut off before it finished (the page closed or the server stopped); ask again"


def update_message(
    store: Store,
    message_id: int,
    content: str,
    *,
    recommendation: str | None = None,
    citations: list[dict] | None = None,
    model: str = "",
    error: str = "",
) -> None:
    """Replace an answer stored while it was being written (see CUT_OFF)."""
    with store.session() as session:
        message = session.get(AdvisorMessage, message_id)
        if message is None:
            return
        message.content, message.model, message.error = content, model[:200], error
        message.recommendation = recommendation
        message.citations = json.dumps(citations or [])
        session.add(message)
        session.commit()


def messages(store: Store, conversation_id: int) -> list[AdvisorMessage]:
    with store.session() as session:
        return list(
            session.exec(
                select(AdvisorMessage)
                .where(AdvisorMessage.conversation_id == conversation_id)
                .order_by(col(AdvisorMessage.id))
            )
        )


def user_texts(store: Store, conversation_id: int) -> list[str]:
    return [m.content for m in messages(store, conversation_id) if m.role == "user"]


def conversations(store: Store, lab: str | None = None, username: str | None = None) -> list[ConversationRow]:
    """Every conversation, newest first, with its learner and message count (for instructors)."""
    with store.session() as session:
        query = (
            select(AdvisorConversation, User.username, func.count(col(AdvisorMessage.id)))
            .join(User, col(User.id) == col(AdvisorConversation.user_id))
            .join(AdvisorMessage, col(AdvisorMessage.conversation_id) == col(AdvisorConversation.id), isouter=True)
            .group_by(col(AdvisorConversation.id), col(User.username))
            .order_by(col(AdvisorConversation.id).desc())
        )
        if lab:
            query = query.where(AdvisorConversation.lab == lab)
        if username:
            query = query.where(User.username == username)
        return [
            ConversationRow(c.id or 0, name, c.lab, c.title, c.started_at, count)
            for c, name, count in session.exec(query)
        ]
