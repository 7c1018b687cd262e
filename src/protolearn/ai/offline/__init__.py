"""The offline provider: questions, refinements and tutoring from the material alone.

``material.py`` (sentences, key terms, distractors), ``generation.py``, ``refinement.py``,
``tutoring.py`` (tutor and explanations), ``provider.py`` (the ``QuestionProvider``).
"""

from protolearn.ai.offline.generation import generate_offline
from protolearn.ai.offline.provider import OFFLINE_MODEL, OfflineProvider
from protolearn.ai.offline.refinement import refine_offline
from protolearn.ai.offline.tutoring import explain_offline, tutor_offline

__all__ = (
    "OFFLINE_MODEL",
    "OfflineProvider",
    "explain_offline",
    "generate_offline",
    "refine_offline",
    "tutor_offline",
)
