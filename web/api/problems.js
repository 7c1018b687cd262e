// Turning what the server or the network says went wrong into words a person can act on.

const STATUS_WORDS = {
  400: "The request was not accepted",
  401: "You need to sign in",
  403: "You are not allowed to do that",
  404: "Not found",
  409: "That conflicts with the current state",
  413: "The file is too large",
  415: "That kind of file is not supported",
  422: "The server could not use what was sent",
  429: "Too many attempts: wait a moment and try again",
  500: "The server had a problem; it has been logged",
  502: "The server cannot be reached right now",
  503: "The service is not ready yet",
};

function sentence(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) return "";
  const first = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** An error from the API or the network, with `message` written for people. */
export class ApiError extends Error {
  constructor({ status = 0, title = "", detail = "", code = "", errors = [], body = null, offline = false }) {
    const heading = title || STATUS_WORDS[status] || (offline ? "You are offline" : "Something went wrong");
    super(sentence(detail) || sentence(heading));
    this.name = "ApiError";
    this.status = status;
    this.title = heading;
    this.detail = detail;
    this.code = code;
    this.errors = errors;
    this.body = body;
    this.offline = offline;
  }
}

/** Builds an ApiError from a failed Response, reading its problem-details body when it has one. */
export async function problemOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (body && typeof body === "object") {
    return new ApiError({
      status: response.status,
      title: body.title || "",
      detail: body.detail || "",
      code: body.code || "",
      errors: Array.isArray(body.errors) ? body.errors : [],
      body,
    });
  }
  return new ApiError({ status: response.status });
}

export function offlineError() {
  return new ApiError({
    offline: true,
    title: "You are offline",
    detail: "the server cannot be reached; check your connection",
  });
}
