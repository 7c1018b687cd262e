// The student's side of the live channel: publish camera and microphone for an attempt.
// The server (/ws/proctor) relays the stream to the teacher and analyses it; the browser only
// captures and sends. `publish()` resolves once the server says `monitoring-started`.

const DEFAULT_VIDEO = { width: 640, height: 480, frameRate: 15 };
const START_TIMEOUT_MS = 45000;

function socketUrl(token) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/proctor?token=${encodeURIComponent(token)}`;
}

function preferCodec(transceiver, kind, mimeType) {
  const codecs = RTCRtpReceiver.getCapabilities(kind)?.codecs || [];
  const preferred = codecs.filter((c) => c.mimeType.toLowerCase() === mimeType.toLowerCase());
  const rest = codecs.filter((c) => c.mimeType.toLowerCase() !== mimeType.toLowerCase());
  if (preferred.length && transceiver.setCodecPreferences) {
    transceiver.setCodecPreferences([...preferred, ...rest]);
  }
}

function waitForIceGathering(connection) {
  if (connection.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (connection.iceGatheringState === "complete") {
        connection.removeEventListener("icegatheringstatechange", done);
        resolve();
      }
    };
    connection.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000); // publish with the candidates found so far
  });
}

/** An error of the live channel; `attemptStatus` is set when the attempt is no longer open,
 * `closeCode` when the server closed the socket (4401, 4403: the sign-in no longer holds). */
export class LiveError extends Error {
  constructor(message, { status = 0, code = "", attemptStatus = null, closeCode = 0 } = {}) {
    super(message);
    this.name = "LiveError";
    this.status = status;
    this.code = code;
    this.attemptStatus = attemptStatus;
    this.closeCode = closeCode;
  }
}

/**
 * Publishes `media` (or a fresh getUserMedia of `video`/`audio`) for the attempt.
 * `onMessage` hears every message of the socket, before and after monitoring starts.
 * Resolves to `{connection, socket, media, stop()}`; `stop()` ends the tracks only when
 * publish() asked for them itself (a stream passed in stays with its owner).
 */
export async function publish({ token, attemptId, onMessage = () => {}, video = DEFAULT_VIDEO, audio = true, media = null }) {
  const owned = !media;
  const stream = media || (await navigator.mediaDevices.getUserMedia({ video, audio }));
  const connection = new RTCPeerConnection();
  let socket = null;
  let deadline = null;
  const stop = () => {
    if (owned) stream.getTracks().forEach((track) => track.stop());
    connection.close();
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
  };
  try {
    for (const track of stream.getTracks()) {
      const transceiver = connection.addTransceiver(track, { direction: "sendonly", streams: [stream] });
      preferCodec(transceiver, track.kind, track.kind === "video" ? "video/VP8" : "audio/opus");
    }
    await connection.setLocalDescription(await connection.createOffer());
    await waitForIceGathering(connection);

    // A server that never opens the socket or never confirms is treated as a lost channel, so
    // the caller publishes again: one limit for the whole start, from before the socket opens.
    const timedOut = new Promise((_, reject) => {
      deadline = setTimeout(() => reject(new LiveError("the server did not start monitoring")), START_TIMEOUT_MS);
    });
    socket = new WebSocket(socketUrl(token));
    let answerApplied = Promise.resolve();
    const started = new Promise((resolve, reject) => {
      socket.addEventListener("message", (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        if (message.type === "webrtc-answer") {
          answerApplied = connection.setRemoteDescription({ type: "answer", sdp: message.sdp });
        } else if (message.type === "monitoring-started") {
          answerApplied.then(resolve, reject); // the server has the stream: the exam may begin
        } else if (message.type === "error") {
          reject(new LiveError(`${message.title}: ${message.detail}`, {
            status: message.status, code: message.code, attemptStatus: message.attempt_status || null,
          }));
        }
        onMessage(message);
      });
      socket.addEventListener("close", (event) => {
        reject(new LiveError("the live channel closed", { closeCode: event.code }));
      });
    });
    started.catch(() => {}); // rejections after the start are the caller's socket events to watch
    const opened = new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener("error", () => reject(new LiveError("cannot open the live channel")), { once: true });
    });
    await Promise.race([opened, timedOut]);
    socket.send(JSON.stringify({ type: "webrtc-offer", attempt_id: attemptId, sdp: connection.localDescription.sdp }));
    await Promise.race([started, timedOut]);
  } catch (error) {
    stop();
    throw error;
  } finally {
    clearTimeout(deadline);
  }
  return { connection, socket, media: stream, stop };
}
