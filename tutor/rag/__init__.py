"""Retrieval over the course: lesson and reference pages cut into section-aware chunks,
embedded with a small local sentence-transformers model and stored in Chroma."""

from tutor.rag.chunks import Chunk, chunk_course
from tutor.rag.index import CourseIndex, Passage, RetrievalError

__all__ = ["Chunk", "CourseIndex", "Passage", "RetrievalError", "chunk_course"]
