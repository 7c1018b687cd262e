// Words for what the live channel says about a student, shared by the monitor's tile and large view.

/** What the camera sees, from the latest observation and the open violations; null when unknown. */
export function observationText(student) {
  const open = student.openViolations || [];
  const seen = student.lastObservation;
  if (!seen) return open.includes("looking_away") ? "Looking away" : null;
  if (seen.dark) return "Too dark to see";
  if (seen.faces === 0) return "No face in view";
  if (seen.faces > 1) return `${seen.faces} faces in view`;
  return open.includes("looking_away") ? "1 face, looking away" : "1 face in view";
}

/** Whether the observation is one the teacher should look at. */
export function observationWorrying(student) {
  const seen = student.lastObservation;
  const open = student.openViolations || [];
  return Boolean((seen && (seen.dark || seen.faces !== 1)) || open.includes("looking_away"));
}

export function connectionText(student) {
  if (!student.known) return "Waiting for the camera";
  return student.connected ? "Connected" : "Not connected";
}

export function cameraText(student) {
  if (!student.known) return "";
  return student.cameraOk ? "Camera on" : "Camera off";
}
