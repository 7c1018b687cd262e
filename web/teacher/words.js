// Words for what the server sends as codes (statuses, question and violation types) and the
// formats of dates, scores and percents on the teacher's pages. Constants only, no state.

export const QUESTION_TYPES = [
  { value: "mcq", label: "Multiple choice" },
  { value: "true_false", label: "True or false" },
  { value: "short_answer", label: "Short answer" },
];

export function questionTypeLabel(type) {
  return QUESTION_TYPES.find((entry) => entry.value === type)?.label || type;
}

const ATTEMPT_STATUS = {
  in_progress: { label: "In progress", badge: "badge--info" },
  submitted: { label: "Submitted", badge: "badge--success" },
  auto_submitted: { label: "Submitted at the deadline", badge: "badge--warning" },
  terminated: { label: "Ended by the teacher", badge: "badge--danger" },
};

export function attemptStatus(status) {
  return ATTEMPT_STATUS[status] || { label: status, badge: "" };
}

const VIOLATION_TYPES = {
  no_face: "No face in view",
  camera_obstructed: "Camera covered or too dark",
  multiple_faces: "More than one person in view",
  looking_away: "Looking away from the screen",
  voice_detected: "Speaking heard",
  camera_lost: "Camera stream lost",
  video_unusable: "Camera picture unusable",
  tab_switch: "Switched to another tab",
  window_blur: "Left the test window",
  fullscreen_exit: "Left full screen",
  copy_paste: "Copied or pasted",
  devtools: "Opened developer tools",
  context_menu: "Opened the context menu",
  print_screen: "Took a screenshot",
};

export function violationType(type) {
  if (VIOLATION_TYPES[type]) return VIOLATION_TYPES[type];
  const words = String(type || "").replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const SEVERITY_BADGE = { low: "badge--info", medium: "badge--warning", high: "badge--danger", critical: "badge--danger" };

export function severityBadge(severity) {
  return SEVERITY_BADGE[severity] || "";
}

export function severityLabel(severity) {
  const text = String(severity || "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function violationSource(source) {
  return source === "server" ? "Server analysis" : "Student's browser";
}

export const REVIEW_MODES = [
  { value: "none", label: "Nothing: results stay with the teacher" },
  { value: "score", label: "Their score" },
  { value: "answers", label: "Their score and each answer with the correct one" },
];

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

export function formatDateTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : "—";
}

export function formatTime(iso) {
  return iso ? timeOnly.format(new Date(iso)) : "—";
}

export function formatNumber(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits });
}

export function formatPercent(value) {
  return value === null || value === undefined ? "—" : `${formatNumber(value, 1)}%`;
}

export function formatPoints(value) {
  const number = formatNumber(value, 2);
  return Number(value) === 1 ? `${number} point` : `${number} points`;
}

/** The average of the numbers that are set, or null when none is. */
export function average(values) {
  const known = values.filter((value) => value !== null && value !== undefined);
  return known.length ? known.reduce((sum, value) => sum + value, 0) / known.length : null;
}

/** A short random key for list items that have no id yet (new questions, options). */
export function localKey(prefix) {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}
