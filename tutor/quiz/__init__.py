"""Quizzes: banks (YAML, GIFT), attempts and grading on the server, item analysis."""
