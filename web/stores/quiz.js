// The attempt a student is taking: its questions and answers, the deadline on the server's
// clock, autosave with a copy in localStorage until the server has every answer, browser events
// queued like answers, and how the attempt ended.
import { defineStore } from "pinia";
import { computed, ref, shallowRef } from "vue";
import { api } from "../api/client.js";

const DEBOUNCE_MS = 1000;
const HEARTBEAT_MS = 30000;
const RETRY_MAX_MS = 10000;
const END_POLL_MS = 2000;

const answersKey = (attemptId) => `protolearn.attempt.${attemptId}`;
const eventsKey = (attemptId) => `protolearn.attempt.${attemptId}.events`;

function readJson(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

function writeJson(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or disabled: the server copy is all there is
  }
}

/** Whether an ApiError says the attempt no longer takes answers (submitted, ended, deadline). */
function attemptIsOver(error) {
  return error?.status === 409 || error?.status === 404 || error?.status === 410;
}

function retryable(error) {
  return Boolean(error?.offline) || error?.status >= 500 || error?.status === 429 || error?.status === 408;
}

export const useQuizStore = defineStore("quiz", () => {
  const attempt = shallowRef(null); // {attemptId, testId, startedAt, questions}
  const answers = ref({}); // question id -> answer text
  const marked = ref({}); // question id -> true: marked for review
  const pending = ref({}); // answers the server has not confirmed (null clears one)
  const deadline = ref(0); // ms since the epoch, on the server's clock
  const offset = ref(0); // server clock minus this browser's clock, ms
  const saveState = ref("idle"); // idle, saving, saved, failed
  const saveError = ref("");
  const savedAt = ref(null); // Date, the server's time of the last save
  const ended = ref(null); // {status, reason, result}
  const timeUp = ref(false);
  const queuedEvents = ref([]);

  let debounce = null;
  let heartbeat = null;
  let retryTimer = null;
  let eventTimer = null;
  let endPoll = null;
  let failures = 0;
  let eventFailures = 0;
  let inFlight = null;
  let again = false;
  let sendingEvents = false; // a sendEvents() loop is running
  let onEndedCallback = () => {};

  const questions = computed(() => attempt.value?.questions || []);
  const answered = (id) => {
    const value = answers.value[id];
    return value !== undefined && value !== null && String(value).trim() !== "";
  };
  const unanswered = computed(() => questions.value.filter((q) => !answered(q.id)));
  const unsaved = computed(() => Object.keys(pending.value).length);
  const serverNow = () => Date.now() + offset.value;

  function persist() {
    if (!attempt.value) return;
    writeJson(answersKey(attempt.value.attemptId), { pending: pending.value, marked: marked.value });
  }

  /** Learns the server's clock from a timestamp it sent, taken between `sent` and now. */
  function syncClock(serverIso, sent) {
    const server = Date.parse(serverIso);
    if (Number.isNaN(server)) return;
    const received = Date.now();
    offset.value = server - (sent + received) / 2;
  }

  /** Starts or resumes the attempt; local unsaved answers win over the server's. */
  async function begin(testId) {
    reset();
    const sent = Date.now();
    const started = await api.post(`/api/tests/${testId}/start`);
    syncClock(started.server_time || started.started_at, sent);
    attempt.value = {
      attemptId: started.attempt_id,
      testId: started.test_id ?? Number(testId),
      startedAt: started.started_at,
      questions: started.questions,
    };
    deadline.value = Date.parse(started.deadline);
    const local = readJson(answersKey(started.attempt_id), {});
    const restored = { ...(started.answers || {}) };
    for (const [id, value] of Object.entries(local.pending || {})) {
      if (value === null) delete restored[id];
      else restored[id] = value;
    }
    answers.value = restored;
    pending.value = { ...(local.pending || {}) };
    marked.value = { ...(local.marked || {}) };
    queuedEvents.value = readJson(eventsKey(started.attempt_id), []);
    heartbeat = setInterval(() => save({ everything: true }), HEARTBEAT_MS);
    window.addEventListener("online", onOnline);
    if (unsaved.value) save();
    if (queuedEvents.value.length) sendEvents();
    return started;
  }

  function setAnswer(questionId, value) {
    if (!attempt.value || ended.value) return;
    const text = value === "" ? null : value;
    if (text === null) delete answers.value[questionId];
    else answers.value[questionId] = text;
    pending.value[questionId] = text;
    persist(); // before the network: a crashed tab keeps it
    clearTimeout(debounce);
    debounce = setTimeout(() => save(), DEBOUNCE_MS);
  }

  function toggleMarked(questionId) {
    if (marked.value[questionId]) delete marked.value[questionId];
    else marked.value[questionId] = true;
    persist();
  }

  /** Sends the unsaved answers (or, as a heartbeat, every answer); retries with backoff. */
  async function save({ everything = false } = {}) {
    if (!attempt.value || ended.value) return;
    clearTimeout(debounce);
    if (inFlight) {
      again = true;
      return inFlight;
    }
    const batch = unsaved.value ? { ...pending.value } : everything ? { ...answers.value } : null;
    if (!batch) return;
    clearTimeout(retryTimer);
    saveState.value = "saving";
    const sent = Date.now();
    const id = attempt.value.attemptId;
    inFlight = (async () => {
      try {
        const result = await api.put(`/api/attempts/${id}/answers`, { answers: batch });
        if (!attempt.value || attempt.value.attemptId !== id) return;
        for (const [key, value] of Object.entries(batch)) {
          if (key in pending.value && pending.value[key] === value) delete pending.value[key];
        }
        persist();
        syncClock(result.saved_at, sent);
        savedAt.value = new Date(Date.parse(result.saved_at));
        const serverDeadline = Date.parse(result.deadline);
        if (!Number.isNaN(serverDeadline) && serverDeadline > deadline.value) moveDeadline(result.deadline, null);
        failures = 0;
        saveError.value = "";
        saveState.value = unsaved.value ? "saving" : "saved";
      } catch (error) {
        if (attemptIsOver(error)) {
          saveState.value = "idle";
          await checkEnded();
          return;
        }
        failures += 1;
        saveState.value = "failed";
        saveError.value = error.message;
        if (retryable(error) || error?.status === 401) {
          retryTimer = setTimeout(() => save(), Math.min(RETRY_MAX_MS, 1000 * 2 ** Math.min(failures, 4)));
        }
      } finally {
        inFlight = null;
      }
    })();
    await inFlight;
    if (again) {
      again = false;
      if (unsaved.value && saveState.value !== "failed") await save();
    }
  }

  function onOnline() {
    failures = 0;
    eventFailures = 0;
    save();
    sendEvents();
  }

  /** Reports a browser event (tab switch, leaving fullscreen, ...); queued until accepted. */
  function reportEvent(type, description = "") {
    if (!attempt.value || ended.value) return;
    queuedEvents.value.push({
      attempt_id: attempt.value.attemptId,
      type,
      description,
      occurred_at: new Date(serverNow()).toISOString(),
      key: `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
    });
    writeJson(eventsKey(attempt.value.attemptId), queuedEvents.value);
    sendEvents();
  }

  /** Sends the queued events one at a time; one loop at most, which takes events queued meanwhile. */
  async function sendEvents() {
    if (sendingEvents) return;
    clearTimeout(eventTimer);
    sendingEvents = true;
    try {
      while (queuedEvents.value.length && attempt.value) {
        const [next] = queuedEvents.value;
        const { key, ...body } = next;
        try {
          await api.post("/api/violations", body);
        } catch (error) {
          if (retryable(error) || error?.status === 401) {
            eventFailures += 1;
            eventTimer = setTimeout(sendEvents, Math.min(RETRY_MAX_MS, 1000 * 2 ** Math.min(eventFailures, 4)));
            return;
          }
          // refused (the attempt ended, or a type the server does not take): drop it
        }
        eventFailures = 0;
        queuedEvents.value = queuedEvents.value.filter((event) => event.key !== key);
        if (attempt.value) writeJson(eventsKey(attempt.value.attemptId), queuedEvents.value);
      }
    } finally {
      sendingEvents = false;
    }
  }

  /** A teacher gave extra time (or the server's deadline moved later). */
  function moveDeadline(iso, minutes) {
    const next = Date.parse(iso);
    if (Number.isNaN(next)) return;
    deadline.value = next;
    if (timeUp.value && next > serverNow()) {
      timeUp.value = false;
      clearInterval(endPoll);
      endPoll = null;
    }
    if (minutes) onExtraTime(minutes);
  }

  let onExtraTime = () => {};

  /** The deadline passed on this page: send what is left, then wait for the server to close it. */
  function runOut() {
    if (timeUp.value || ended.value) return;
    timeUp.value = true;
    save();
    clearInterval(endPoll);
    endPoll = setInterval(checkEnded, END_POLL_MS);
  }

  /** Asks the server whether the attempt is closed; if so, the end screen with its result. */
  async function checkEnded() {
    if (!attempt.value || ended.value?.result) return;
    const id = attempt.value.attemptId;
    try {
      const result = await api.get(`/api/attempts/${id}`);
      if (result.status === "in_progress") {
        const serverDeadline = Date.parse(result.deadline);
        if (serverDeadline > deadline.value) moveDeadline(result.deadline, null);
        return;
      }
      finish(result.status, result.end_reason, result);
    } catch (error) {
      if (error?.status === 404) finish("terminated", "the attempt is no longer available", null);
      // offline: the poll or the next event asks again
    }
  }

  function endedByServer(status, reason) {
    if (ended.value) return;
    ended.value = { status, reason, result: null };
    checkEnded();
    onEndedCallback(ended.value);
  }

  function finish(status, reason, result) {
    const first = !ended.value;
    ended.value = { status, reason: reason ?? ended.value?.reason ?? null, result };
    timeUp.value = false;
    stopTimers();
    if (attempt.value) {
      localStorage.removeItem(answersKey(attempt.value.attemptId));
      localStorage.removeItem(eventsKey(attempt.value.attemptId));
    }
    if (first) onEndedCallback(ended.value);
  }

  async function submit() {
    if (!attempt.value) return null;
    clearTimeout(debounce);
    const { attemptId, testId } = attempt.value;
    try {
      // A cleared answer still waiting to be saved is sent as null, or the server would keep the old one.
      const result = await api.post(`/api/tests/${testId}/submit`, { attempt_id: attemptId, answers: { ...answers.value, ...pending.value } });
      pending.value = {};
      finish(result.status, null, null);
      return result;
    } catch (error) {
      if (attemptIsOver(error)) {
        await checkEnded();
        return null;
      }
      throw error;
    }
  }

  function whenEnded(callback) {
    onEndedCallback = callback;
  }

  function whenExtraTime(callback) {
    onExtraTime = callback;
  }

  function stopTimers() {
    clearTimeout(debounce);
    clearTimeout(retryTimer);
    clearTimeout(eventTimer);
    clearInterval(heartbeat);
    clearInterval(endPoll);
    endPoll = null;
    window.removeEventListener("online", onOnline);
  }

  function reset() {
    stopTimers();
    attempt.value = null;
    answers.value = {};
    marked.value = {};
    pending.value = {};
    deadline.value = 0;
    saveState.value = "idle";
    saveError.value = "";
    savedAt.value = null;
    ended.value = null;
    timeUp.value = false;
    queuedEvents.value = [];
    failures = 0;
    eventFailures = 0;
    onEndedCallback = () => {};
    onExtraTime = () => {};
  }

  return {
    attempt, answers, marked, pending, deadline, offset, saveState, saveError, savedAt, ended, timeUp,
    queuedEvents, questions, unanswered, unsaved, answered, serverNow,
    begin, setAnswer, toggleMarked, save, reportEvent, moveDeadline, runOut, checkEnded, endedByServer,
    submit, whenEnded, whenExtraTime, reset,
  };
});
