// What the student's publisher (live.js) and the teacher's monitor (stores/monitor.js) share about
// the live channel: its address on a node, how far to follow the server's `moved`, and the ICE
// servers (STUN, and TURN with credentials that expire) each peer connection is given.
// It takes the access token as an argument rather than reading the auth store, so live.js stays
// usable on its own.

// A test's live media meets on one node; a `moved` names it. More moves than this in a row mean
// the nodes disagree (a pin changing under us): give up and start again from the page's origin.
export const MAX_MOVES = 3;

const ICE_SERVERS_PATH = "/api/rtc/ice-servers";
const ICE_TIMEOUT_MS = 5000;

/**
 * The live channel's WebSocket URL on the node at `nodeUrl` (a `moved`'s `node_url`, such as
 * https://host/nodes/b), or at the page's own origin, the load balancer, by default.
 */
export function socketUrl(token, nodeUrl = location.origin) {
  const url = new URL(`${nodeUrl.replace(/\/+$/, "")}/ws/proctor`, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = `?token=${encodeURIComponent(token)}`;
  return url.href;
}

// The server's {urls, username?, credential?} as RTCPeerConnection wants it: absent fields left
// out rather than null, which the browser would refuse.
function toBrowser(server) {
  const out = { urls: server.urls };
  if (server.username) out.username = server.username;
  if (server.credential) out.credential = server.credential;
  return out;
}

/**
 * The ICE servers for a new peer connection, asked for each time (TURN credentials expire).
 * Resolves to [] when they cannot be had: a direct connection still works on most networks,
 * so the exam is not held up for them.
 */
export async function iceServers(token) {
  if (!token) return []; // signed out meanwhile: the channel will say so, not this
  try {
    const response = await fetch(ICE_SERVERS_PATH, {
      headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
      credentials: "same-origin",
      signal: AbortSignal.timeout(ICE_TIMEOUT_MS),
    });
    if (!response.ok) return [];
    const body = await response.json();
    return Array.isArray(body.ice_servers) ? body.ice_servers.map(toBrowser) : [];
  } catch {
    return [];
  }
}

/** A peer connection with the ICE servers this user is given now. */
export async function peerConnection(token) {
  const servers = await iceServers(token);
  try {
    return new RTCPeerConnection({ iceServers: servers });
  } catch (error) {
    // A URL the browser cannot read (a misconfigured server) must not stop the exam either.
    console.warn("ICE servers refused, connecting directly:", error);
    return new RTCPeerConnection();
  }
}
