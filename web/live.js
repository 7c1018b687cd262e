// The student's side of the live channel: publish camera and microphone for an attempt.
// The server (/ws/proctor) relays the stream to the teacher and analyses it; the browser only
// captures and sends. `publish()` resolves once the server says `monitoring-started`.
// Where several nodes serve, the offer may be answered `moved`: the class meets on another
// node, and the same offer goes there.
import { MAX_MOVES, peerConnection, socketUrl } from "./api/rtc.js";

const DEFAULT_VIDEO = { width: 640, height: 480, frameRate: 15 };
// Beside the camera the page sends a smaller copy of it, which is what the server analyses: it
// decodes the camera itself only at a keyframe every few seconds, to check the copy against it.
// A quarter of a 640x480 camera's pixels, at about half its rate.
const ANALYSIS_WIDTH = 320;
const ANALYSIS_FPS = 8;
const ANALYSIS_BITRATE = 100_000; // 2 KB a picture: every face of the accuracy set still found
// The camera, which teachers watch and evidence clips keep: at most 600 kbit/s (a browser's own
// ceiling at 640x480 is about 1.7 Mbit/s), a school's uplink shared by a class, and fewer
// packets for the server to receive.
const CAMERA_BITRATE = 600_000;
const START_TIMEOUT_MS = 45000;

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

/** Resolves once the socket opens; rejects when it cannot. */
function opened(socket) {
  return new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new LiveError("cannot open the live channel")), { once: true });
  });
}

/**
 * What the server makes of the offer on this socket: resolves to null once monitoring started,
 * or to a `moved` naming the node to offer to instead; rejects on an error or a close.
 * Every message reaches `onMessage`, after the start too.
 */
function outcome(socket, connection, onMessage) {
  let answerApplied = Promise.resolve();
  const settled = new Promise((resolve, reject) => {
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
        answerApplied.then(() => resolve(null), reject); // the server has the stream: the exam may begin
      } else if (message.type === "moved") {
        resolve(message); // nothing was done here
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
  settled.catch(() => {}); // rejections after the start are the caller's socket events to watch
  return settled;
}

/**
 * Publishes `media` (or a fresh getUserMedia of `video`/`audio`) for the attempt.
 * `onMessage` hears every message of the socket, before and after monitoring starts.
 * Resolves to `{connection, socket, media, stop()}`; `stop()` ends the tracks only when
 * publish() asked for them itself (a stream passed in stays with its owner).
 * Each call starts at the page's own origin: a node remembered from an earlier `moved` may be
 * the one that failed.
 */
export async function publish({ token, attemptId, onMessage = () => {}, video = DEFAULT_VIDEO, audio = true, media = null }) {
  const owned = !media;
  const stream = media || (await navigator.mediaDevices.getUserMedia({ video, audio }));
  let connection = null;
  let socket = null;
  let deadline = null;
  const copies = [];
  const stop = () => {
    copies.forEach((track) => track.stop());
    if (owned) stream.getTracks().forEach((track) => track.stop());
    if (connection) connection.close();
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
  };
  try {
    connection = await peerConnection(token);
    for (const track of stream.getTracks()) {
      const options = { direction: "sendonly", streams: [stream] };
      if (track.kind === "video") options.sendEncodings = [{ maxBitrate: CAMERA_BITRATE }];
      const transceiver = connection.addTransceiver(track, options);
      preferCodec(transceiver, track.kind, track.kind === "video" ? "video/VP8" : "audio/opus");
      if (track.kind === "video") {
        // Short of bandwidth, fewer frames rather than fewer pixels: a far face needs them.
        const parameters = transceiver.sender.getParameters();
        parameters.degradationPreference = "maintain-resolution";
        await transceiver.sender.setParameters(parameters).catch(() => {}); // a browser without it keeps its own
      }
    }
    const [camera] = stream.getVideoTracks();
    if (camera) {
      // After the camera: the server takes an offer's second video for the copy.
      const copy = camera.clone();
      copies.push(copy);
      const width = camera.getSettings().width || DEFAULT_VIDEO.width;
      const encoding = {
        scaleResolutionDownBy: Math.max(1, width / ANALYSIS_WIDTH),
        maxFramerate: ANALYSIS_FPS,
        maxBitrate: ANALYSIS_BITRATE,
      };
      const transceiver = connection.addTransceiver(copy, { direction: "sendonly", streams: [stream], sendEncodings: [encoding] });
      preferCodec(transceiver, "video", "video/VP8");
    }
    await connection.setLocalDescription(await connection.createOffer());
    await waitForIceGathering(connection);
    const offer = JSON.stringify({ type: "webrtc-offer", attempt_id: attemptId, sdp: connection.localDescription.sdp });

    // A server that never opens the socket or never confirms is treated as a lost channel, so
    // the caller publishes again: one limit for the whole start, moves included, from before
    // the first socket opens.
    const timedOut = new Promise((_, reject) => {
      deadline = setTimeout(() => reject(new LiveError("the server did not start monitoring")), START_TIMEOUT_MS);
    });
    let url = socketUrl(token);
    for (let moves = 0; ; moves += 1) {
      socket = new WebSocket(url);
      const started = outcome(socket, connection, onMessage);
      await Promise.race([opened(socket), timedOut]);
      socket.send(offer);
      const moved = await Promise.race([started, timedOut]);
      if (!moved) break;
      socket.close(); // its close no longer matters: `started` has settled
      if (moves >= MAX_MOVES) throw new LiveError("the live channel kept moving between servers");
      url = socketUrl(token, moved.node_url);
    }
  } catch (error) {
    stop();
    throw error;
  } finally {
    clearTimeout(deadline);
  }
  return { connection, socket, media: stream, stop };
}
