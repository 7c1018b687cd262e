// The test settings a teacher chooses, with their defaults (those of TestCreate and
// ProctoringSettings on the server) and the words shown for each: grouped as a teacher thinks
// of them, not as they are stored.

export const TEST_DEFAULTS = {
  title: "",
  subject: "",
  description: "",
  time_limit: 30,
  passing_score: 50,
  shuffle_questions: false,
  max_attempts: 1,
  review_mode: "score",
};

export const RULE_DEFAULTS = {
  no_face_seconds: 3,
  camera_obstructed_seconds: 3,
  multiple_faces_seconds: 2,
  looking_away_seconds: 4,
  max_head_yaw_degrees: 35,
  max_head_pitch_degrees: 30,
  max_gaze_yaw_degrees: 25,
  voice_seconds: 3,
  voice_level: 45,
  video_unusable_seconds: 4,
  release_seconds: 1,
  max_gap_seconds: 2,
  escalate_after_seconds: 30,
};

export const PROCTORING_DEFAULTS = {
  camera_required: true,
  microphone_required: true,
  analysis_fps: 2,
  auto_terminate_after_critical: null,
};

const SECONDS = { unit: "seconds", min: 0.1, max: 3600, step: 0.5 };
const DEGREES = { unit: "degrees", min: 1, max: 180, step: 1 };

/** The rules' thresholds in groups; each field: name, label, hint, unit, min, max, step. */
export const RULE_GROUPS = [
  {
    id: "face",
    title: "Face and camera picture",
    hint: "How long the camera may show something wrong before it is flagged.",
    fields: [
      { name: "no_face_seconds", label: "No face in view for", hint: "The student left the seat or turned the camera away.", ...SECONDS },
      { name: "multiple_faces_seconds", label: "Two or more faces for", hint: "Someone else is next to the student.", ...SECONDS },
      { name: "camera_obstructed_seconds", label: "Camera covered or too dark for", hint: "The lens is covered or the room is dark.", ...SECONDS },
      { name: "video_unusable_seconds", label: "Picture unusable for", hint: "The video cannot be analysed: frozen, broken or the wrong size.", ...SECONDS },
    ],
  },
  {
    id: "gaze",
    title: "Looking away",
    hint: "Turning the head or the eyes further than these angles counts as looking away.",
    fields: [
      { name: "looking_away_seconds", label: "Looking away for", hint: "How long before it is flagged.", ...SECONDS },
      { name: "max_head_yaw_degrees", label: "Head turned sideways beyond", hint: "Left or right, from facing the screen.", ...DEGREES },
      { name: "max_head_pitch_degrees", label: "Head tilted up or down beyond", hint: "Looking at the desk or the ceiling.", ...DEGREES },
      { name: "max_gaze_yaw_degrees", label: "Eyes turned sideways beyond", hint: "Glancing aside without turning the head.", ...DEGREES },
    ],
  },
  {
    id: "voice",
    title: "Voices",
    hint: "Used only when the microphone is required.",
    fields: [
      { name: "voice_seconds", label: "Speaking for", hint: "How long speech must go on to be flagged.", ...SECONDS },
      {
        name: "voice_level",
        label: "Loudness counted as speech",
        hint: "A level from 0 (loudest) to 127 (silence): a higher number also catches quieter voices.",
        unit: "level",
        min: 0,
        max: 127,
        step: 1,
      },
    ],
  },
  {
    id: "timing",
    title: "How flags start, end and grow",
    hint: "Smoothing, so that a blink or a cough does not become a violation.",
    fields: [
      { name: "release_seconds", label: "A problem must be gone for", hint: "before its violation ends.", ...SECONDS },
      { name: "max_gap_seconds", label: "Gaps shorter than", hint: "join two spells of the same problem into one.", ...SECONDS },
      { name: "escalate_after_seconds", label: "Raise the severity after", hint: "A violation that goes on this long counts as more serious.", ...SECONDS },
    ],
  },
];

/** Words for a threshold the server knows and these pages do not (yet): its name, spaced. */
export function fallbackLabel(name) {
  const words = name.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
