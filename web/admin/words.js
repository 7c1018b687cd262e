// Formatting shared by the admin pages.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

export const ROLES = ["student", "teacher", "admin", "auditor"];

export const ROLE_LABELS = { student: "Student", teacher: "Teacher", admin: "Administrator", auditor: "Auditor" };

export function formatDateTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : "—";
}

export function formatDate(iso) {
  return iso ? dateOnly.format(new Date(iso)) : "—";
}

export function formatClock(date) {
  return date ? timeOnly.format(date) : "—";
}

export function formatCount(value) {
  return value === null || value === undefined ? "—" : new Intl.NumberFormat().format(value);
}

// "user.update" → "User update"; unknown actions stay readable.
export function actionLabel(action) {
  const words = action.replace(/[._]/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
