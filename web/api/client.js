// The one module that talks HTTP to the server: it adds the access token, refreshes it silently
// when it expires and retries once, and turns problem details into ApiError messages.
// Components and stores call `api.get/post/put/patch/del/upload/uploadWithProgress/download`, never fetch.
import { useAuthStore } from "../stores/auth.js";
import { ApiError, offlineError, problemOf } from "./problems.js";

async function send(path, { method = "GET", json, form, headers = {}, signal, keepalive } = {}) {
  const auth = useAuthStore();
  const request = { method, headers: { Accept: "application/json", ...headers }, signal, keepalive };
  if (json !== undefined) {
    request.headers["Content-Type"] = "application/json";
    request.body = JSON.stringify(json);
  } else if (form !== undefined) {
    request.body = form;
  }
  const attempt = async () => {
    if (auth.accessToken) request.headers.Authorization = `Bearer ${auth.accessToken}`;
    try {
      return await fetch(path, { ...request, credentials: "same-origin" });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw offlineError();
    }
  };
  return withRefresh(attempt);
}

/** Runs `attempt` (a request returning a Response); on a 401 refreshes once and retries. */
async function withRefresh(attempt) {
  const auth = useAuthStore();
  let response = await attempt();
  if (response.status === 401 && auth.accessToken) {
    // The access token expired (or was revoked): refresh once from the cookie, then retry.
    const refreshed = await auth.refresh();
    if (!refreshed) {
      auth.sessionExpired();
      throw await problemOf(response);
    }
    response = await attempt();
  }
  if (!response.ok) throw await problemOf(response);
  return response;
}

async function body(response) {
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const api = {
  async get(path, options) {
    return body(await send(path, { ...options, method: "GET" }));
  },
  async post(path, json, options) {
    return body(await send(path, { ...options, method: "POST", json }));
  },
  async put(path, json, options) {
    return body(await send(path, { ...options, method: "PUT", json }));
  },
  async patch(path, json, options) {
    return body(await send(path, { ...options, method: "PATCH", json }));
  },
  async del(path, options) {
    return body(await send(path, { ...options, method: "DELETE" }));
  },
  /** multipart/form-data; `fields` is an object of strings and Files. */
  async upload(path, fields, options) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    return body(await send(path, { ...options, method: "POST", form }));
  },
  /** multipart/form-data through XMLHttpRequest, the one way to see upload progress:
   * `onProgress(fraction)` hears 0..1 as the bytes go out. Same token, refresh and errors as the rest. */
  async uploadWithProgress(path, fields, onProgress = () => {}) {
    const auth = useAuthStore();
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    const attempt = () =>
      new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("POST", path);
        xhr.withCredentials = true;
        xhr.setRequestHeader("Accept", "application/json");
        if (auth.accessToken) xhr.setRequestHeader("Authorization", `Bearer ${auth.accessToken}`);
        xhr.upload.onprogress = (event) => {
          if (event.lengthComputable) onProgress(event.loaded / event.total);
        };
        xhr.onload = () => {
          const headers = { "content-type": xhr.getResponseHeader("content-type") || "" };
          resolve(new Response(xhr.status === 204 ? null : xhr.responseText, { status: xhr.status, headers }));
        };
        xhr.onerror = () => reject(offlineError());
        xhr.send(form);
      });
    const response = await withRefresh(attempt);
    onProgress(1);
    return body(response);
  },
  /** Fetches a file with the access token and saves it under the server's file name. */
  async download(path, fallbackName) {
    const response = await send(path, { headers: { Accept: "*/*" } });
    const disposition = response.headers.get("content-disposition") || "";
    const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] || fallbackName;
    const url = URL.createObjectURL(await response.blob());
    const link = Object.assign(document.createElement("a"), { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    return name;
  },
};

export { ApiError };
