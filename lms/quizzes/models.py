"""Models of the quizzes feature."""
