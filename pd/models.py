"""Professional development: sessions, attendance, feedback, needs polls, Learning Leaders."""
