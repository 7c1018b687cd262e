// The teacher's live view of a test: the class now taking it (from the results list), one relayed
// video per student over the live channel, what the server says about each student as it
// happens, and the teacher's warnings and terminations. One test is watched at a time.
// Where several nodes serve, `watch-test` may be answered `moved`: the class meets on another
// node, and the monitor watches from there.
import { defineStore } from "pinia";
import { computed, ref, shallowRef } from "vue";
import { api } from "../api/client.js";
import { MAX_MOVES, peerConnection, socketUrl } from "../api/rtc.js";
import { useAuthStore } from "./auth.js";

const POLL_MS = 10000;
const RETRY_MAX_MS = 15000;
const HIGHLIGHT_MS = 8000;

function emptyStudent(row) {
  return {
    attemptId: row.attempt_id,
    name: row.student_name,
    email: row.student_email,
    connected: false,
    cameraOk: false,
    known: false, // no student-status heard yet
    openViolations: [],
    lastObservation: null,
    violations: [],
    violationCount: row.violation_count || 0,
    highlighted: false,
    paused: false,
    stream: null,
  };
}

export const useMonitorStore = defineStore("monitor", () => {
  const testId = ref(null);
  const test = ref(null);
  const students = ref([]); // in the order of the results list; plain objects, kept reactive
  const status = ref("off"); // off, connecting, live, reconnecting
  const problem = ref("");
  const loaded = ref(false);
  const announcement = ref(""); // the latest change worth announcing (live region)
  const streams = shallowRef({}); // attempt id -> MediaStream of its relayed video
  let socket = null;
  let connection = null;
  let watched = []; // the attempt ids of the offer the peer connection carries
  let pendingPause = new Set(); // ids out of view, to pause once they are offered
  let pollTimer = null;
  let retryTimer = null;
  let failures = 0;
  let moves = 0; // `moved` followed in a row since the socket at the page's own origin
  let offers = 0; // the server's offers so far: an answer still fetching ICE servers may be stale
  let active = false;
  let pending = new Map(); // request kind + attempt id -> {resolve, reject}
  const highlightTimers = new Map();

  const byId = (id) => students.value.find((student) => student.attemptId === id) || null;
  const count = computed(() => students.value.length);

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  /** Starts watching a test: roster, live channel, polling for students who start or finish. */
  async function start(id) {
    stop();
    active = true;
    testId.value = Number(id);
    loaded.value = false;
    problem.value = "";
    try {
      test.value = await api.get(`/api/tests/${testId.value}`);
    } catch (error) {
      problem.value = error.message;
      loaded.value = true;
      active = false;
      throw error;
    }
    await refreshRoster();
    loaded.value = true;
    connect();
    pollTimer = setInterval(() => refreshRoster().catch(() => {}), POLL_MS);
  }

  function stop() {
    active = false;
    clearInterval(pollTimer);
    clearTimeout(retryTimer);
    highlightTimers.forEach((timer) => clearTimeout(timer));
    highlightTimers.clear();
    pending.forEach(({ reject }) => reject(new Error("The live view was closed.")));
    pending = new Map();
    closeConnection();
    if (socket) {
      const old = socket;
      socket = null;
      old.close();
    }
    status.value = "off";
    students.value = [];
    streams.value = {};
    watched = [];
    pendingPause = new Set();
    failures = 0;
    moves = 0;
  }

  function closeConnection() {
    if (connection) connection.close();
    connection = null;
  }

  /** The results list's attempts in progress become the tiles; a changed class is watched anew. */
  async function refreshRoster() {
    const rows = await api.get(`/api/results/${testId.value}`);
    if (!active) return;
    const current = rows.filter((row) => row.status === "in_progress");
    const ids = new Set(current.map((row) => row.attempt_id));
    const leaving = students.value.filter((student) => !ids.has(student.attemptId));
    const joining = current.filter((row) => !byId(row.attempt_id));
    students.value = current.map((row) => {
      const existing = byId(row.attempt_id);
      if (existing) {
        existing.violationCount = Math.max(existing.violationCount, row.violation_count || 0);
        return existing;
      }
      return emptyStudent(row);
    });
    if (joining.length) announce(`${joining.map((row) => row.student_name).join(", ")} started the test.`);
    if (leaving.length) announce(`${leaving.map((student) => student.name).join(", ")} finished.`);
    const offered = new Set(watched);
    const changed = current.some((row) => !offered.has(row.attempt_id));
    if (changed && socket && socket.readyState === WebSocket.OPEN) watchTest();
  }

  function announce(text) {
    announcement.value = text;
  }

  function watchTest() {
    if (!students.value.length) return;
    send({ type: "watch-test", test_id: testId.value });
  }

  /** Opens the live channel at the node `nodeUrl` (a `moved`'s), or at the page's own origin. */
  function connect(nodeUrl) {
    if (!active || socket) return;
    status.value = failures ? "reconnecting" : "connecting";
    useAuthStore()
      .freshToken()
      .then((token) => {
        if (!active || socket) return;
        if (!token) {
          problem.value = "Your sign-in has ended. Sign in again to watch the class.";
          status.value = "off";
          return;
        }
        const opened = new WebSocket(socketUrl(token, nodeUrl));
        socket = opened;
        opened.addEventListener("open", () => {
          if (socket !== opened) return;
          watched = [];
          if (students.value.length) watchTest();
          else status.value = "live";
        });
        opened.addEventListener("message", (event) => {
          if (socket !== opened) return;
          let message;
          try {
            message = JSON.parse(event.data);
          } catch {
            return;
          }
          onMessage(message).catch((error) => console.warn("live view:", error));
        });
        opened.addEventListener("close", (event) => {
          if (socket !== opened) return;
          socket = null;
          closeConnection();
          useAuthStore()
            .liveChannelClosed(event.code)
            .then((mayReconnect) => (mayReconnect ? lost() : stop()));
        });
      })
      .catch(() => lost());
  }

  function lost() {
    closeConnection();
    watched = [];
    moves = 0; // the next socket starts at the origin: the node moved to may be the one that failed
    if (!active) return;
    failures += 1;
    status.value = "reconnecting";
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => connect(), Math.min(RETRY_MAX_MS, 1000 * 2 ** Math.min(failures, 4)));
  }

  /** The class meets on another node: this socket goes, and the one there asks again. */
  function follow(nodeUrl) {
    const old = socket;
    socket = null; // its close is no loss
    closeConnection();
    watched = [];
    if (old) old.close();
    if (moves >= MAX_MOVES) {
      console.warn("live view: the live channel kept moving between servers");
      lost();
      return;
    }
    moves += 1;
    connect(nodeUrl);
  }

  async function onMessage(message) {
    switch (message.type) {
      case "webrtc-offer":
        await answer(message.attempt_ids, message.sdp);
        break;
      case "moved":
        follow(message.node_url);
        break;
      case "peer-connected":
        failures = 0;
        status.value = "live";
        if (pendingPause.size) {
          const ids = message.attempt_ids.filter((id) => pendingPause.has(id));
          if (ids.length) send({ type: "pause", attempt_ids: ids });
        }
        break;
      case "student-status":
        onStatus(message);
        break;
      case "violation":
        onViolation(message.violation);
        break;
      case "forwarding-changed":
        for (const id of message.attempt_ids) {
          const student = byId(id);
          if (student) student.paused = message.paused;
        }
        break;
      case "warning-sent":
        settle(`warn-${message.attempt_id}`, message);
        break;
      case "terminated":
        settle(`terminate-${message.attempt_id}`, message);
        removeStudent(message.attempt_id);
        break;
      case "error":
        failPending(message);
        break;
      default:
        break;
    }
  }

  async function answer(ids, sdp) {
    const mine = (offers += 1);
    const via = socket;
    const token = await useAuthStore().freshToken().catch(() => ""); // offline: no TURN, still an answer
    const peer = await peerConnection(token);
    if (mine !== offers || via !== socket || !active) {
      peer.close(); // a newer offer, or another socket, came meanwhile
      return;
    }
    closeConnection();
    connection = peer;
    watched = ids;
    await peer.setRemoteDescription({ type: "offer", sdp });
    const transceivers = peer.getTransceivers();
    const next = {};
    ids.forEach((id, index) => {
      const video = transceivers[2 * index];
      if (video && video.receiver.track) next[id] = new MediaStream([video.receiver.track]);
    });
    transceivers.forEach((transceiver) => {
      transceiver.direction = "recvonly";
    });
    await peer.setLocalDescription(await peer.createAnswer());
    if (connection !== peer) return;
    streams.value = next;
    peer.addEventListener("connectionstatechange", () => {
      if (connection === peer && peer.connectionState === "failed" && socket) {
        socket.close(); // a fresh socket and offer
      }
    });
    send({ type: "webrtc-answer", sdp: peer.localDescription.sdp });
  }

  function onStatus(message) {
    const student = byId(message.attempt_id);
    if (!student) {
      refreshRoster().catch(() => {}); // someone who started since the last look
      return;
    }
    student.known = true;
    student.connected = message.connected;
    student.cameraOk = message.camera_ok;
    student.openViolations = message.open_violations || [];
    student.lastObservation = message.last_observation || null;
  }

  function onViolation(violation) {
    const student = byId(violation.attempt_id);
    if (!student) return;
    const index = student.violations.findIndex((entry) => entry.id === violation.id);
    if (index >= 0) {
      student.violations.splice(index, 1, violation); // it ended: the same violation, with its clip
      return;
    }
    student.violations.push(violation);
    student.violationCount += 1;
    student.highlighted = true;
    clearTimeout(highlightTimers.get(student.attemptId));
    highlightTimers.set(
      student.attemptId,
      setTimeout(() => {
        student.highlighted = false;
      }, HIGHLIGHT_MS)
    );
  }

  function removeStudent(id) {
    students.value = students.value.filter((student) => student.attemptId !== id);
  }

  /** Tiles in and out of view: the server stops sending the video of those out of view. */
  function setVisible(id, visible) {
    if (visible) pendingPause.delete(id);
    else pendingPause.add(id);
    if (!watched.includes(id)) return;
    send({ type: visible ? "resume" : "pause", attempt_ids: [id] });
  }

  function request(kind, message) {
    return new Promise((resolve, reject) => {
      if (!send(message)) {
        reject(new Error("The live channel is reconnecting. Try again in a moment."));
        return;
      }
      pending.set(`${kind}-${message.attempt_id}`, { resolve, reject });
    });
  }

  function settle(key, message) {
    const waiting = pending.get(key);
    if (!waiting) return;
    pending.delete(key);
    waiting.resolve(message);
  }

  function failPending(message) {
    // A refusal names the request it answers; the oldest one waiting where it does not.
    const named = message.in_reply_to && `${message.in_reply_to}-${message.attempt_id}`;
    const key = pending.has(named) ? named : pending.keys().next().value;
    const waiting = key === undefined ? undefined : pending.get(key);
    if (!waiting) return;
    pending.delete(key);
    waiting.reject(new Error(message.detail || message.title || "The request was refused."));
  }

  /** Sends a warning to the student's screen; resolves with whether it was delivered. */
  async function warn(id, text) {
    const reply = await request("warn", { type: "warn", attempt_id: id, message: text });
    return reply.delivered;
  }

  /** Ends the student's attempt now. */
  async function terminate(id, reason) {
    await request("terminate", { type: "terminate", attempt_id: id, reason });
  }

  return {
    testId, test, students, status, problem, loaded, announcement, streams, count,
    start, stop, refreshRoster, setVisible, warn, terminate, byId,
  };
});
