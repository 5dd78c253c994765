// The SUMU demo: plain JavaScript, no build step. Its connection is the SUMU JavaScript client
// (clients/js, served at /sumu-client.js): a token from /demo/token on every (re)connect, a
// keepalive ping, reconnect with backoff, and channels that recover what a reconnect missed
// (each message shown once, with its seq; a `recovered: false` is shown as such).
import { connect } from "/sumu-client.js";

const ONLINE_REFRESH_MS = 2000;
const $ = (id) => document.getElementById(id);
let client = null;
const subscriptions = new Map(); // channel -> the client's unsubscribe function

function setStatus(text, kind) {
  $("status").textContent = text;
  $("status").className = kind || "";
}

function prepend(listId, text, data = {}) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  Object.assign(item.dataset, data);
  $(listId).prepend(item);
}

function setConnected(connected) {
  $("connect").disabled = connected;
  $("disconnect").disabled = !connected;
  for (const id of ["send", "publish", "subscribe", "unsubscribe"]) $(id).disabled = !connected;
}

function showChannels() {
  $("channels").replaceChildren(...[...subscriptions.keys()].sort().map((channel) => {
    const item = document.createElement("li");
    item.textContent = channel;
    item.dataset.channel = channel;
    return item;
  }));
}

async function login(userId, channels) {
  const query = `sub=${encodeURIComponent(userId)}&channels=${encodeURIComponent(channels)}`;
  const response = await fetch(`/demo/token?${query}`);
  if (!response.ok) throw new Error(await response.text());
  return response.json();
}

function showFrame(listId, frame) {
  prepend(listId, JSON.stringify(frame.frame ?? frame));
}

async function start(userId, channels) {
  setStatus("connecting...");
  // The first token also says where the gateway is; every reconnect asks for a fresh one.
  const { websocket_url: url } = await login(userId, channels);
  client = connect({ url, getToken: async () => (await login(userId, channels)).token });
  window.sumuDemo = { client }; // for the browser tests and a curious console
  client.on("open", () => {
    setStatus("connected", "connected");
    $("me").textContent = userId;
    setConnected(true);
  });
  client.on("pong", (frame) => { $("connection-id").textContent = frame.connectionId ?? "-"; });
  client.on("close", ({ code, willReconnect }) => {
    $("connection-id").textContent = "-";
    setConnected(false);
    if (willReconnect) setStatus(`reconnecting (${code})...`, "error");
    else setStatus(`disconnected (${code})`, code === 1000 ? "" : "error");
  });
  client.on("reconnecting", ({ attempt, delayMs }) => setStatus(`reconnecting: attempt ${attempt} in ${delayMs} ms`, "error"));
  client.on("recovered", (event) => prepend("acks", JSON.stringify(event.ack)));
  client.on("error", (error) => { if (error && error.frame) showFrame("acks", error.frame); });
  client.onMessage((data) => prepend("notifications", JSON.stringify(data)));
}

function subscribe(channel) {
  if (subscriptions.has(channel)) return;
  const leave = client.subscribe(channel, (message) => {
    const seq = message.seq === undefined ? "" : `#${message.seq} `; // a stack without history
    prepend("notifications", `[${message.channel}] ${seq}${JSON.stringify(message.data)}`, {
      channel: message.channel, seq: String(message.seq ?? ""),
    });
  }, {
    onRecoveryFailed: ({ seq }) => {
      // History no longer reaches back: a real application reloads its state here.
      prepend("notifications", `[${channel}] recovered: false (messages up to #${seq} were missed: reload)`, {
        channel, recovered: "false",
      });
    },
  });
  subscriptions.set(channel, leave);
  leave.ready.then((ack) => { showFrame("acks", ack); showChannels(); }, (error) => {
    subscriptions.delete(channel);
    showChannels();
    if (error.frame) showFrame("acks", error.frame);
  });
}

async function unsubscribe(channel) {
  const leave = subscriptions.get(channel);
  subscriptions.delete(channel);
  showChannels();
  const ack = await (leave ? leave() : client.unsubscribe(channel));
  if (ack) showFrame("acks", ack);
}

async function refreshOnline() {
  try {
    const { users } = await (await fetch("/demo/online")).json();
    const list = $("online");
    list.replaceChildren(...Object.entries(users).map(([user, count]) => {
      const item = document.createElement("li");
      item.textContent = `${user} (${count} connection${count === 1 ? "" : "s"})`;
      item.dataset.user = user;
      return item;
    }));
  } catch (error) {
    console.warn("online refresh failed", error);
  }
}

function userList(text) {
  return text.split(",").map((user) => user.trim()).filter(Boolean);
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  start($("user-id").value.trim(), $("token-channels").value.trim()).catch((error) => setStatus(`refused: ${error.message}`, "error"));
});

$("disconnect").addEventListener("click", () => {
  if (client) client.close();
  subscriptions.clear(); // they went with the connection
  showChannels();
});

$("message-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const action = event.submitter.dataset.action;
  let message;
  try { message = JSON.parse($("message").value); } catch { message = $("message").value; }
  const request = action === "publish" ? client.publish(message) : client.send(message);
  request.then((ack) => showFrame("acks", ack), (error) => showFrame("acks", error.frame ?? { error: error.message }));
});

$("channel-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const channel = $("channel").value.trim();
  if (event.submitter.dataset.action === "subscribe") subscribe(channel);
  else unsubscribe(channel).catch((error) => showFrame("acks", error.frame ?? { error: error.message }));
});

$("notify-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  let data;
  try { data = JSON.parse($("notify-data").value); } catch { data = $("notify-data").value; }
  const request = { data, via: $("notify-via").value };
  const users = userList($("notify-users").value);
  const excluded = userList($("notify-exclude").value);
  const channels = userList($("notify-channels").value);
  if (users.length) request.users = users;
  if (channels.length) request.channels = channels;
  if (excluded.length) request.exclude_users = excluded;
  const response = await fetch("/demo/notify", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  $("notify-result").textContent = JSON.stringify(await response.json());
});

refreshOnline();
setInterval(refreshOnline, ONLINE_REFRESH_MS);
