// Who is signed in. The access token lives here, in memory only; the refresh token is an
// HttpOnly cookie the page never sees. A reload restores the session from that cookie.
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { api } from "../api/client.js";
import { ApiError, offlineError, problemOf } from "../api/problems.js";

// Set while this browser holds a login, so a first visit does not ask the server for one.
const SIGNED_IN_HINT = "protolearn.signed-in";
const HOME_BY_ROLE = { student: "student-home", teacher: "teacher-home", admin: "admin-home", auditor: "review-queue" };

// Sign-in calls carry no access token and must not trigger a refresh of their own.
async function post(path, json) {
  const headers = { Accept: "application/json" };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      credentials: "same-origin",
    });
  } catch {
    throw offlineError();
  }
  if (!response.ok) throw await problemOf(response);
  return response.status === 204 ? null : response.json();
}

export const useAuthStore = defineStore("auth", () => {
  const user = ref(null);
  const accessToken = ref("");
  const expiresAt = ref(0);
  const restored = ref(false);
  let refreshing = null; // the refresh in flight, shared by every caller of this tab
  let timer = null;
  let logouts = 0; // how many times this tab signed out: a refresh answered after one is dropped
  let signingOut = false; // while logout() runs: the login ending then surprises no one
  let onExpired = () => {};

  const signedIn = computed(() => Boolean(user.value && accessToken.value));
  const role = computed(() => user.value?.role || "");
  const homeRoute = computed(() => ({ name: HOME_BY_ROLE[role.value] || "landing" }));

  function accept(pair) {
    user.value = pair.user;
    accessToken.value = pair.access_token;
    expiresAt.value = Date.now() + pair.expires_in * 1000;
    localStorage.setItem(SIGNED_IN_HINT, "1");
    clearTimeout(timer);
    // Refresh a minute early when tokens live long enough; otherwise the first 401 does it.
    // Offline then, it fails quietly: the first 401 once the network is back refreshes again.
    if (pair.expires_in >= 120) timer = setTimeout(() => refresh().catch(() => {}), (pair.expires_in - 60) * 1000);
  }

  function clear() {
    clearTimeout(timer);
    user.value = null;
    accessToken.value = "";
    expiresAt.value = 0;
    localStorage.removeItem(SIGNED_IN_HINT);
  }

  async function rotate(epoch) {
    const wasSignedIn = Boolean(user.value);
    try {
      const pair = await post("/api/auth/refresh");
      if (epoch !== logouts) return false; // signed out meanwhile: not a sign-in again
      accept(pair);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.offline) throw error;
      if (epoch !== logouts) return false;
      // The login is over. Someone signed in is told so and asked to sign in again, whoever
      // asked for the refresh (a request, the early timer, the live channel).
      if (wasSignedIn) sessionExpired();
      else clear();
      return false;
    }
  }

  /** Rotates the cookie's refresh token for a new access token; false when the login is over. */
  async function refresh() {
    if (!refreshing) {
      // Tabs of one browser share the cookie: take turns, or two tabs would present the same
      // token and the server would end the whole login as a replay.
      const epoch = logouts;
      const run = navigator.locks ? navigator.locks.request("protolearn-refresh", () => rotate(epoch)) : rotate(epoch);
      refreshing = run.finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  /** An access token valid for at least a few more seconds (for the live channel's URL). */
  async function freshToken() {
    if (accessToken.value && expiresAt.value - Date.now() > 10_000) return accessToken.value;
    return (await refresh()) ? accessToken.value : "";
  }

  async function restore() {
    try {
      if (localStorage.getItem(SIGNED_IN_HINT)) await refresh();
    } catch {
      // offline at start: stay signed out until the network is back
    } finally {
      restored.value = true;
    }
  }

  async function login(email, password) {
    accept(await post("/api/auth/login", { email, password }));
  }

  async function register(details) {
    await post("/api/auth/register", details);
    await login(details.email, details.password);
  }

  async function logout() {
    logouts += 1;
    signingOut = true;
    try {
      // A refresh in flight ends first (its cookie is the one to sign out); tabs take turns.
      await refreshing?.catch(() => {});
      await (navigator.locks ? navigator.locks.request("protolearn-refresh", () => post("/api/auth/logout")) : post("/api/auth/logout"));
    } finally {
      clear();
      signingOut = false;
    }
  }

  async function rename(name) {
    user.value = await api.patch("/api/auth/me", { name });
  }

  async function changePassword(currentPassword, newPassword) {
    // Every other login ends; this one continues with the fresh pair (and cookie).
    accept(await api.post("/api/auth/password", { current_password: currentPassword, new_password: newPassword }));
  }

  /**
   * The live channel closed with `code`; resolves whether the page may open it again.
   * 4401: the login ended (signed out everywhere, a new password): a refresh tells whether this
   * browser still holds it (the new password was set here or in another tab). 4403: the account
   * may no longer do this (deactivated, another role). Otherwise the user is sent to sign in,
   * instead of reconnecting with a token the server refuses.
   */
  async function liveChannelClosed(code) {
    if (code !== 4401 && code !== 4403) return true;
    if (code === 4401 && (await refresh().catch(() => false))) return true;
    sessionExpired();
    return false;
  }

  /** The login ended while someone was signed in: says so once and asks them to sign in. */
  function sessionExpired() {
    const wasSignedIn = Boolean(user.value);
    clear();
    if (wasSignedIn && !signingOut) onExpired();
  }

  function whenExpired(callback) {
    onExpired = callback;
  }

  return {
    user, accessToken, expiresAt, restored, signedIn, role, homeRoute,
    refresh, freshToken, restore, login, register, logout, rename, changePassword,
    sessionExpired, whenExpired, liveChannelClosed,
  };
});
