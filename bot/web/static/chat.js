// The demo chat page. Every text from the server is put into the page with
// textContent, never as HTML: a resident's "<script>" shows as text.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const state = { bot: "", rooms: [], people: [], entries: [], current: null, unread: {}, dms: [] };

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = {};
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) throw new Error(data.error || ("请求失败（" + response.status + "）"));
  return data;
}

function chatTitle(id) {
  if (id.startsWith("room:")) return id.slice(5);
  return id.slice(3) + " ↔ " + state.bot;
}

function colour(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)) % 360;
  return "hsl(" + h + ", 45%, 55%)";
}

function avatar(name, isBot) {
  const a = el("span", "avatar" + (isBot ? " bot" : ""), isBot ? "警" : name.slice(0, 1));
  if (!isBot) a.style.background = colour(name);
  return a;
}

function chatIds() {
  const ids = state.rooms.map((r) => "room:" + r.room);
  const dms = new Set(state.people.filter((p) => p.role !== "居民").map((p) => "dm:" + p.name));
  for (const e of state.entries) if (e.chat.startsWith("dm:")) dms.add(e.chat);
  return ids.concat([...dms]);
}

function lastEntry(id) {
  for (let i = state.entries.length - 1; i >= 0; i--) if (state.entries[i].chat === id) return state.entries[i];
  return null;
}

function renderList() {
  const list = document.getElementById("chat-list");
  list.replaceChildren();
  for (const id of chatIds()) {
    const item = el("li", "chat-item" + (id === state.current ? " active" : ""));
    item.dataset.chat = id;
    const isRoom = id.startsWith("room:");
    const icon = el("span", "avatar " + (isRoom ? "group" : "person"), isRoom ? "群" : id.slice(3, 4));
    if (!isRoom) icon.style.background = colour(id.slice(3));
    const body = el("span", "item-body");
    body.append(el("span", "item-title", isRoom ? id.slice(5) : id.slice(3) + "（私聊）"));
    const last = lastEntry(id);
    body.append(el("span", "item-last", last ? (last.from_bot ? "" : last.sender + "：") + (last.text || (last.image ? "[图片]" : "[文件] " + last.file)) : ""));
    item.append(icon, body);
    const count = state.unread[id] || 0;
    if (count) item.append(el("span", "badge", String(count)));
    item.addEventListener("click", () => select(id));
    list.append(item);
  }
}

function textWithMentions(text) {
  const frag = document.createDocumentFragment();
  const parts = text.split(/(@[^\s@]+)/);
  for (const part of parts) {
    if (!part) continue;
    frag.append(part.startsWith("@") ? el("span", "mention", part) : document.createTextNode(part));
  }
  return frag;
}

function messageNode(e, previous) {
  const wrap = document.createDocumentFragment();
  if (!previous || Date.parse(e.at) - Date.parse(previous.at) > 5 * 60 * 1000) {
    wrap.append(el("div", "time-sep", e.time));
  }
  const mine = !e.from_bot && e.sender === document.getElementById("sender").value;
  const row = el("div", "msg" + (mine ? " mine" : "") + (e.from_bot ? " from-bot" : ""));
  row.dataset.id = e.id;
  const body = el("div", "msg-body");
  body.append(el("div", "msg-name", e.sender));
  const bubble = el("div", "bubble" + (e.image && !e.text ? " image-only" : ""));
  if (e.mentions.length && e.from_bot) {
    bubble.append(el("span", "mention", e.mentions.map((m) => "@" + m).join(" ") + " "));
  }
  if (e.text) bubble.append(textWithMentions(e.text));
  if (e.file) {
    if (e.image) {
      const img = el("img", "sent-image");
      img.src = e.file_url;
      img.alt = e.file;
      bubble.append(img);
    } else {
      const link = el("a", "file-card", "📄 " + e.file);
      link.href = e.file_url;
      bubble.append(link);
    }
  }
  body.append(bubble);
  row.append(avatar(e.sender, e.from_bot), body);
  wrap.append(row);
  return wrap;
}

function renderMessages() {
  const box = document.getElementById("messages");
  box.replaceChildren();
  let previous = null;
  for (const e of state.entries) {
    if (e.chat !== state.current) continue;
    box.append(messageNode(e, previous));
    previous = e;
  }
  if (!previous) box.append(el("div", "empty", "还没有消息。选一个身份说句话，或点下面的示例。"));
  box.scrollTop = box.scrollHeight;
}

function renderSenders() {
  const select = document.getElementById("sender");
  const keep = select.value;
  select.replaceChildren();
  const groups = {};
  for (const p of state.people) (groups[p.role] = groups[p.role] || []).push(p.name);
  for (const [role, names] of Object.entries(groups)) {
    const group = el("optgroup");
    group.label = role;
    for (const name of names) {
      const option = el("option", null, name);
      option.value = name;
      group.append(option);
    }
    select.append(group);
  }
  if (keep) select.value = keep;
}

function select(id) {
  state.current = id;
  state.unread[id] = 0;
  const sender = document.getElementById("sender");
  if (id.startsWith("dm:")) {
    const name = id.slice(3);
    if (![...sender.options].some((o) => o.value === name)) {
      const option = el("option", null, name);
      option.value = name;
      sender.append(option);
    }
    sender.value = name;
    sender.disabled = true;
  } else {
    sender.disabled = false;
  }
  document.getElementById("conv-title").textContent = chatTitle(id);
  const room = state.rooms.find((r) => "room:" + r.room === id);
  document.getElementById("conv-note").textContent = room ? "（" + room.note + "）" : "";
  renderList();
  renderMessages();
}

function showClock(clock) {
  document.getElementById("clock-now").textContent = clock.label;
  const next = document.getElementById("clock-next");
  next.textContent = clock.next ? "下一事件：" + clock.next.label : "没有待执行的定时任务";
  document.getElementById("jump-next").disabled = !clock.next;
}

function addEntry(e) {
  if (state.entries.some((x) => x.id === e.id)) return;
  state.entries.push(e);
  if (e.chat === state.current) {
    const box = document.getElementById("messages");
    const empty = box.querySelector(".empty");
    if (empty) empty.remove();
    const previous = [...state.entries].reverse().find((x) => x.chat === e.chat && x.id !== e.id) || null;
    box.append(messageNode(e, previous));
    box.scrollTop = box.scrollHeight;
  } else {
    state.unread[e.chat] = (state.unread[e.chat] || 0) + 1;
  }
  renderList();
}

async function load() {
  const response = await fetch("/api/chat/state", { credentials: "same-origin" });
  const data = await response.json();
  state.bot = data.bot;
  state.rooms = data.rooms;
  state.people = data.people;
  state.entries = data.entries;
  renderSenders();
  showClock(data.clock);
  const samples = document.getElementById("samples");
  samples.replaceChildren();
  for (const s of data.samples) {
    const b = el("button", "sample secondary", s.label);
    b.type = "button";
    b.dataset.sample = s.id;
    b.addEventListener("click", () => run(b, () => post("/api/chat/sample", { id: s.id })));
    samples.append(b);
  }
  select(state.current || "room:" + state.rooms[0].room);
}

async function run(button, action) {
  const buttons = document.querySelectorAll("button");
  buttons.forEach((b) => { b.dataset.was = b.disabled ? "1" : ""; b.disabled = true; });
  document.body.classList.add("busy");
  try {
    await action();
  } catch (err) {
    toast(err.message);
  } finally {
    buttons.forEach((b) => { b.disabled = b.dataset.was === "1"; });
    document.body.classList.remove("busy");
    document.getElementById("jump-next").disabled = document.getElementById("clock-next").textContent.startsWith("没有");
  }
}

function connect(delay) {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/chat/stream");
  // Reload on every opening, the first too: what was broadcast between the page's
  // first load and this socket (a clock jump clicked at once) would be lost.
  ws.onopen = () => { load(); delay = 1000; document.body.classList.remove("offline"); };
  ws.onmessage = (msg) => {
    const event = JSON.parse(msg.data);
    if (event.type === "entry") addEntry(event.entry);
    else if (event.type === "clock") showClock(event.clock);
  };
  ws.onclose = () => {
    document.body.classList.add("offline");
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  };
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = document.getElementById("text");
    const text = input.value;
    if (!text.trim()) return;
    const room = state.current.startsWith("room:") ? state.current.slice(5) : null;
    const sender = document.getElementById("sender").value;
    run(null, async () => {
      await post("/api/chat/say", { sender, room, text });
      input.value = "";
    }).then(() => input.focus());
  });
  document.getElementById("mention-bot").addEventListener("click", () => {
    const input = document.getElementById("text");
    input.value = "@" + state.bot + " " + input.value;
    input.focus();
  });
  document.getElementById("send-photo").addEventListener("click", () => {
    const room = state.current.startsWith("room:") ? state.current.slice(5) : null;
    const sender = document.getElementById("sender").value;
    run(null, () => post("/api/chat/picture", { sender, room }));
  });
  document.getElementById("sender").addEventListener("change", renderMessages);
  for (const b of document.querySelectorAll("[data-jump]")) {
    b.addEventListener("click", () => run(b, () => post("/api/chat/jump", { to: b.dataset.jump })));
  }
  load().then(() => connect(1000)).catch((err) => toast("无法载入演示：" + err.message));
});
