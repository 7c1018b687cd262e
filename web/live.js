// The student's side of the live channel: publish camera and microphone for an attempt.
// The server (/ws/proctor) relays the stream to the teacher and analyses it; the browser only
// captures and sends. Usage: const session = await ProtoLearnLive.publish({token, attemptId});
(function () {
  "use strict";

  function socketUrl(token) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws/proctor?token=${encodeURIComponent(token)}`;
  }

  function preferCodec(transceiver, kind, mimeType) {
    const codecs = RTCRtpReceiver.getCapabilities(kind).codecs;
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

  async function publish({ token, attemptId, onStatus = () => {}, video = { width: 640, height: 480, frameRate: 15 } }) {
    const media = await navigator.mediaDevices.getUserMedia({ video, audio: true });
    const connection = new RTCPeerConnection();
    for (const track of media.getTracks()) {
      const transceiver = connection.addTransceiver(track, { direction: "sendonly", streams: [media] });
      preferCodec(transceiver, track.kind, track.kind === "video" ? "video/VP8" : "audio/opus");
    }
    await connection.setLocalDescription(await connection.createOffer());
    await waitForIceGathering(connection);

    const socket = new WebSocket(socketUrl(token));
    let answerApplied = Promise.resolve();
    const answered = new Promise((resolve, reject) => {
      socket.addEventListener("message", (event) => {
        const message = JSON.parse(event.data);
        onStatus(message);
        if (message.type === "webrtc-answer") {
          answerApplied = connection.setRemoteDescription({ type: "answer", sdp: message.sdp });
        } else if (message.type === "monitoring-started") {
          answerApplied.then(resolve, reject); // the server has the stream: the exam may begin
        } else if (message.type === "error") {
          reject(new Error(`${message.title}: ${message.detail}`));
        }
      });
      socket.addEventListener("close", () => reject(new Error("the live channel closed")));
    });
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener("error", () => reject(new Error("cannot open the live channel")), { once: true });
    });
    socket.send(JSON.stringify({ type: "webrtc-offer", attempt_id: attemptId, sdp: connection.localDescription.sdp }));
    await answered;
    return {
      connection,
      socket,
      stop() {
        media.getTracks().forEach((track) => track.stop());
        connection.close();
        socket.close();
      },
    };
  }

  window.ProtoLearnLive = { publish };
})();
