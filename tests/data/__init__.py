"""Data several test modules share: files (critic_planted*) and small helper modules (quiz_bank)."""
