"""Quizzes: banks (YAML, GIFT), attempts and grading on the server, item analysis.

bank (the typed bank) · gift (Moodle GIFT) · bank_files (read a bank file, export one) ·
versions (stored bank versions: save, publish, sync of the shipped banks) · grading ·
attempts (start, draft, submit, review, grades and the gradebook) · analysis (item analysis).
"""
