// The SUMU demo: plain JavaScript, no build step. It is a client like any other: it gets a
// token, opens the WebSocket with ?authorization=<token>, pings every 30 s (API Gateway closes
// connections idle for 10 minutes), and sends the seed's frames.
"use strict";

const KEEPALIVE_MS = 30000;
const ONLINE_REFRESH_MS = 2000;
const $ = (id) => document.getElementById(id);
let socket = null;
let keepalive = null;
const subscribed = new Set();

function setStatus(text, kind) {
  $("status").textContent = text;
  $("status").className = kind || "";
}

function prepend(listId, text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $(listId).prepend(item);
}

function setConnected(connected) {
  $("connect").disabled = connected;
  $("disconnect").disabled = !connected;
  $("send").disabled = !connected;
  $("publish").disabled = !connected;
  $("subscribe").disabled = !connected;
  $("unsubscribe").disabled = !connected;
}

function showChannels() {
  $("channels").replaceChildren(...[...subscribed].sort().map((channel) => {
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

function onFrame(event) {
  let frame;
  try { frame = JSON.parse(event.data); } catch { frame = event.data; }
  if (frame && frame.type === "pong") {
    $("connection-id").textContent = frame.connectionId;
  } else if (frame && (frame.type === "ack" || frame.type === "error")) {
    if (frame.type === "ack" && frame.action === "subscribe") subscribed.add(frame.channel);
    if (frame.type === "ack" && frame.action === "unsubscribe") subscribed.delete(frame.channel);
    showChannels();
    prepend("acks", JSON.stringify(frame));
  } else if (frame && frame.type === "message" && typeof frame.channel === "string") {
    prepend("notifications", `[${frame.channel}] ${JSON.stringify(frame.data)}`);
  } else {
    prepend("notifications", JSON.stringify(frame));
  }
}

async function connect(userId, channels) {
  setStatus("connecting...");
  const { token, websocket_url: websocketUrl } = await login(userId, channels);
  socket = new WebSocket(`${websocketUrl}?authorization=${encodeURIComponent(token)}`);
  socket.onopen = () => {
    setStatus("connected", "connected");
    $("me").textContent = userId;
    setConnected(true);
    socket.send(JSON.stringify({ action: "ping" })); // the pong carries our connection id
    keepalive = setInterval(() => socket.send(JSON.stringify({ action: "ping" })), KEEPALIVE_MS);
  };
  socket.onmessage = onFrame;
  socket.onclose = (event) => {
    clearInterval(keepalive);
    setConnected(false);
    $("connection-id").textContent = "-";
    subscribed.clear(); // $disconnect removed them
    showChannels();
    setStatus(`disconnected (${event.code})`, event.code === 1000 ? "" : "error");
  };
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
  connect($("user-id").value.trim(), $("token-channels").value.trim()).catch((error) => setStatus(`refused: ${error.message}`, "error"));
});

$("disconnect").addEventListener("click", () => socket && socket.close(1000));

$("message-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const action = event.submitter.dataset.action;
  let message;
  try { message = JSON.parse($("message").value); } catch { message = $("message").value; }
  socket.send(JSON.stringify({ action, message }));
});

$("channel-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const action = event.submitter.dataset.action;
  socket.send(JSON.stringify({ action, channel: $("channel").value.trim() }));
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
