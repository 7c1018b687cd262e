"""AI authoring and tutoring: material extraction, question generation, refinement, tutor, explanations."""
