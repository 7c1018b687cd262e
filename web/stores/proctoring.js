// The student's camera and microphone for a test: the device check's stream, publishing it over
// the live channel, republishing when the connection drops, and what the channel says.
import { defineStore } from "pinia";
import { ref, shallowRef } from "vue";
import { LiveError, publish } from "../live.js";
import { useAuthStore } from "./auth.js";
import { useQuizStore } from "./quiz.js";

// A peer connection "disconnected" this long is treated as lost and published again.
const DISCONNECTED_GRACE_MS = 4000;
const RETRY_MAX_MS = 15000;

/** What went wrong with getUserMedia, in a word the page explains. */
export function deviceProblem(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "denied";
    case "NotFoundError":
    case "OverconstrainedError":
      return "missing";
    case "NotReadableError":
    case "AbortError":
      return "busy";
    default:
      return "unavailable";
  }
}

export const useProctoringStore = defineStore("proctoring", () => {
  const media = shallowRef(null); // the MediaStream of the device check, published as it is
  const deviceError = ref(""); // "", denied, missing, busy, unavailable
  const status = ref("off"); // off, connecting, live, reconnecting, unavailable
  const lastError = ref("");
  const warning = ref(null); // the teacher's latest warning {message, at}
  let session = null;
  let attemptId = null;
  let active = false;
  let retryTimer = null;
  let disconnectTimer = null;
  let failures = 0;
  let startedOnce = null;
  let generation = 0; // bumped by start() and stop(): a publish begun before belongs to no one

  const hasVideo = () => Boolean(media.value?.getVideoTracks().some((t) => t.readyState === "live"));
  const hasAudio = () => Boolean(media.value?.getAudioTracks().some((t) => t.readyState === "live"));

  /** Asks for camera and microphone; keeps what was granted. Throws nothing: see deviceError. */
  async function requestDevices({ video = true, audio = true } = {}) {
    releaseDevices();
    deviceError.value = "";
    if (!navigator.mediaDevices?.getUserMedia) {
      deviceError.value = "unavailable";
      return null;
    }
    const wanted = { video: video ? { width: 640, height: 480, frameRate: 15 } : false, audio };
    try {
      media.value = await navigator.mediaDevices.getUserMedia(wanted);
    } catch (error) {
      deviceError.value = deviceProblem(error);
      if (video && audio && deviceError.value === "missing") {
        // One of them may be there: a laptop with a microphone and no camera, say.
        for (const single of [{ video: wanted.video }, { audio: true }]) {
          try {
            media.value = await navigator.mediaDevices.getUserMedia(single);
            break;
          } catch {
            // try the other one
          }
        }
      }
    }
    return media.value;
  }

  function releaseDevices() {
    media.value?.getTracks().forEach((track) => track.stop());
    media.value = null;
  }

  function onMessage(message) {
    const quiz = useQuizStore();
    if (message.attempt_id != null && message.attempt_id !== attemptId) return;
    switch (message.type) {
      case "warning":
        warning.value = { message: message.message, at: Date.now() };
        break;
      case "test-ended":
        quiz.endedByServer(message.status, message.reason);
        break;
      case "deadline-changed":
        quiz.moveDeadline(message.deadline, message.minutes);
        break;
      case "error":
        if (message.attempt_status && message.attempt_status !== "in_progress") quiz.checkEnded();
        break;
      default:
        break;
    }
  }

  function watch(current) {
    current.socket.addEventListener("close", (event) => {
      if (session === current) lost("the live channel closed", event.code);
    });
    current.connection.addEventListener("connectionstatechange", () => {
      if (session !== current) return;
      const state = current.connection.connectionState;
      clearTimeout(disconnectTimer);
      if (state === "failed" || state === "closed") lost(`the connection ${state}`);
      else if (state === "disconnected") {
        disconnectTimer = setTimeout(() => {
          if (session === current && current.connection.connectionState === "disconnected") lost("the connection dropped");
        }, DISCONNECTED_GRACE_MS);
      }
    });
  }

  function lost(reason, closeCode = 0) {
    if (!active) return;
    lastError.value = reason;
    const old = session;
    session = null;
    old?.stop();
    status.value = "reconnecting";
    if (closeCode) reconnectIfSignedIn(closeCode);
    else schedule();
  }

  /** After the server closed the socket: publish again, unless the user must sign in again. */
  async function reconnectIfSignedIn(closeCode) {
    const mine = generation;
    const mayReconnect = await useAuthStore().liveChannelClosed(closeCode);
    if (mine !== generation) return;
    if (mayReconnect) schedule();
    else stop();
  }

  function schedule() {
    clearTimeout(retryTimer);
    const wait = Math.min(RETRY_MAX_MS, 1000 * 2 ** Math.min(failures, 4));
    retryTimer = setTimeout(connect, wait);
  }

  async function connect() {
    if (!active || session) return;
    const mine = generation;
    try {
      const token = await useAuthStore().freshToken();
      if (mine !== generation) return;
      if (!token) throw new LiveError("the sign-in has ended");
      const current = await publish({ token, attemptId, media: media.value, onMessage });
      if (mine !== generation || !active) {
        current.stop();
        return;
      }
      session = current;
      failures = 0;
      lastError.value = "";
      status.value = "live";
      watch(current);
      startedOnce?.();
    } catch (error) {
      if (mine !== generation) return; // the attempt it was for has stopped: not this one's failure
      failures += 1;
      lastError.value = error.message;
      if (error instanceof LiveError && error.attemptStatus && error.attemptStatus !== "in_progress") {
        stop();
        useQuizStore().checkEnded();
        return;
      }
      if (!active) return;
      status.value = status.value === "live" || status.value === "reconnecting" ? "reconnecting" : "connecting";
      if (error instanceof LiveError && error.closeCode) reconnectIfSignedIn(error.closeCode);
      else schedule();
    }
  }

  /**
   * Publishes the device check's stream for the attempt; resolves on the first
   * `monitoring-started` (and keeps republishing after drops until stop()).
   * With nothing to publish, the status is "unavailable" and it resolves at once.
   */
  function start(id) {
    stop();
    generation += 1;
    attemptId = id;
    warning.value = null;
    if (!hasVideo() && !hasAudio()) {
      status.value = "unavailable";
      return Promise.resolve();
    }
    active = true;
    failures = 0;
    status.value = "connecting";
    const first = new Promise((resolve) => {
      startedOnce = () => {
        startedOnce = null;
        resolve();
      };
    });
    connect();
    return first;
  }

  /** Stops publishing; `release` also ends the camera and microphone. */
  function stop({ release = false } = {}) {
    generation += 1;
    active = false;
    clearTimeout(retryTimer);
    clearTimeout(disconnectTimer);
    const old = session;
    session = null;
    old?.stop();
    status.value = "off";
    if (release) releaseDevices();
  }

  function dismissWarning() {
    warning.value = null;
  }

  return {
    media, deviceError, status, lastError, warning,
    hasVideo, hasAudio, requestDevices, releaseDevices, start, stop, dismissWarning,
  };
});
