// The story board: cards from GET /api/stories (50 a page, "more" follows the cursor, so 1,000 open
// stories cost one page of DOM at a time), live updates from GET /api/events (server-sent events:
// a changed story's card replaces its old one and moves to the top), and a story panel from
// GET /api/stories/{id}. Plain DOM, no framework: text always goes in as textContent.
"use strict";

const PAGE = 50;
const token = (() => {  // a read token given once as ?token= is kept for the tab's life
  const fromUrl = new URLSearchParams(location.search).get("token");
  if (fromUrl) sessionStorage.setItem("wirewatch-token", fromUrl);
  return sessionStorage.getItem("wirewatch-token");
})();
const $ = (sel) => document.querySelector(sel);
const board = $("#board"), more = $("#more"), statusLine = $("#status"), live = $("#live");
let next = null, filters = {}, generation = 0, loading = false;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

async function getJSON(path, params) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) if (v !== "" && v !== null && v !== undefined) url.searchParams.set(k, v);
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const res = await fetch(url, { headers });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail || body.error || res.statusText);
  return body;
}

const QUALIFIERS = { at_least: "at least ", more_than: "more than ", up_to: "up to ", about: "about ", nearly: "nearly " };
function figure(f, word, cls) {
  if (!f) return null;
  const q = QUALIFIERS[f.qualifier] || "";
  return el("span", { class: cls, title: f.sitename ? "highest figure, from " + f.sitename : "" },
    q, el("b", {}, f.count.toLocaleString("en")), " " + word);
}

function ago(iso) {
  if (!iso) return "";
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 90) return "just now";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  if (s < 129600) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " days ago";
}

function places(card) {
  const names = [...card.places, ...card.countries];
  return names.length ? names.join(" · ") : "place not named";
}

function cardNode(card) {
  const node = el("article", { class: "card", "data-id": card.id, tabindex: "0" },
    el("h2", { title: card.title || "" }, card.latest_title || card.title || "(untitled)"),
    el("div", { class: "places" }, places(card)),
    el("div", { class: "figures" }, figure(card.killed, "killed", "killed"), figure(card.injured, "injured", "injured")),
    el("div", { class: "meta" },
      el("span", { class: "outlets" }, `${card.outlets} outlet${card.outlets === 1 ? "" : "s"} · ${card.articles} article${card.articles === 1 ? "" : "s"}`),
      el("time", { datetime: card.last_at || "", title: card.last_at || "" }, ago(card.last_at))));
  node.addEventListener("click", () => openStory(card.id));
  node.addEventListener("keydown", (e) => { if (e.key === "Enter") openStory(card.id); });
  return node;
}

async function load(reset) {
  if (!reset && (loading || !next)) return;
  const mine = reset ? ++generation : generation;
  loading = true;
  statusLine.textContent = "loading…";
  try {
    const page = await getJSON("/api/stories", { ...filters, limit: PAGE, cursor: reset ? null : next });
    if (mine !== generation) return;  // the filters changed meanwhile
    if (reset) board.replaceChildren();
    for (const card of page.items) board.append(cardNode(card));
    next = page.next;
    more.hidden = !next;
    const n = board.children.length;
    statusLine.textContent = n ? `${n} ${n === 1 ? "story" : "stories"}${next ? " (more below)" : ""}` : "no stories match";
  } catch (e) {
    statusLine.textContent = "could not load stories: " + e.message;
  } finally {
    if (mine === generation) loading = false;
  }
}

// Whether a card pushed by the server belongs under the current filters (the ones a card shows;
// words and language need the articles, so a new story under those waits for a reload).
function matches(card) {
  if (filters.q || filters.language) return false;
  if (filters.min_killed && !(card.killed && card.killed.count >= +filters.min_killed)) return false;
  if (filters.min_injured && !(card.injured && card.injured.count >= +filters.min_injured)) return false;
  if (filters.country && !card.countries.includes(filters.country.toUpperCase())) return false;
  if (filters.rule && !card.rules.includes(filters.rule)) return false;
  return true;
}

function onStory(card) {
  const old = board.querySelector(`.card[data-id="${CSS.escape(card.id)}"]`);
  if (!old && !matches(card)) return;
  const node = cardNode(card);
  if (old) old.remove();
  board.prepend(node);
  node.classList.add("flash");
  setTimeout(() => node.classList.remove("flash"), 50);
  if ($("#story-view").dataset.id === card.id) openStory(card.id, true);
}

function connect() {
  const url = new URL("/api/events", location.origin);
  if (token) url.searchParams.set("token", token);
  const source = new EventSource(url);
  source.onopen = () => { live.textContent = "live"; live.className = "live on"; };
  source.onerror = () => { live.textContent = "reconnecting"; live.className = "live off"; };
  source.addEventListener("story", (e) => onStory(JSON.parse(e.data)));
  source.addEventListener("reload", () => load(true));
}

function chart(history) {
  // A step chart of each figure over time: x is time, y the toll (one scale for both).
  const W = 640, H = 130, P = 26;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  if (!history.length) return svg;
  const times = history.map((h) => Date.parse(h.at));
  const t0 = Math.min(...times), t1 = Math.max(...times, t0 + 60000);
  const top = Math.max(...history.map((h) => h.count), 1);
  const x = (t) => P + (W - 2 * P) * (t - t0) / (t1 - t0);
  const y = (v) => H - P - (H - 2 * P) * v / top;
  const ns = (tag, attrs) => { const e = document.createElementNS(svg.namespaceURI, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); return e; };
  for (const [cat, color] of [["killed", "#b42318"], ["injured", "#b54708"]]) {
    const pts = history.filter((h) => h.category === cat);
    if (!pts.length) continue;
    let d = "", prev = null;
    for (const h of pts) {
      const px = x(Date.parse(h.at)), py = y(h.count);
      d += prev === null ? `M${px},${py}` : `H${px}V${py}`;
      prev = py;
      const dot = ns("circle", { cx: px, cy: py, r: 3.5, fill: color });
      dot.append(ns("title", {}));
      dot.firstChild.textContent = `${h.count} ${cat} · ${h.sitename || ""} · ${h.at}`;
      svg.append(dot);
      const label = ns("text", { x: px + 5, y: py - 5 });
      label.textContent = h.count;
      svg.append(label);
    }
    d += `H${W - P}`;
    svg.prepend(ns("path", { d, fill: "none", stroke: color, "stroke-width": 2 }));
  }
  const axis = ns("text", { x: P, y: H - 4 }); axis.textContent = new Date(t0).toISOString().slice(0, 16).replace("T", " ");
  const axis2 = ns("text", { x: W - P, y: H - 4, "text-anchor": "end" }); axis2.textContent = new Date(t1).toISOString().slice(0, 16).replace("T", " ");
  svg.append(axis, axis2);
  return svg;
}

function sentence(ev) {
  // The evidence sentence with the figure itself highlighted (its offsets within the sentence).
  const p = el("blockquote", { class: "evidence" });
  p.append(el("span", { class: "tag" }, `${ev.category}: ${(QUALIFIERS[ev.qualifier] || "") + ev.count}` +
    (ev.attribution ? ` · according to ${ev.attribution}` : "")));
  const s = ev.sentence;
  if (ev.figure) {
    const [a, b] = ev.figure;
    p.append(s.slice(0, a), el("mark", {}, s.slice(a, b)), s.slice(b));
  } else {
    p.append(s);
  }
  return p;
}

async function openStory(id, quiet) {
  const view = $("#story-view"), box = $("#story");
  view.hidden = false;
  view.dataset.id = id;
  if (!quiet) box.replaceChildren(el("p", {}, "loading…"));
  if (location.hash !== "#story=" + id) history.replaceState(null, "", "#story=" + encodeURIComponent(id));
  let s;
  try {
    s = await getJSON("/api/stories/" + encodeURIComponent(id));
  } catch (e) {
    box.replaceChildren(el("p", {}, "could not load the story: " + e.message));
    return;
  }
  if (view.dataset.id !== id) return;
  const items = s.items.map((it) => el("div", { class: "item" },
    el("span", { class: "outlet" }, it.outlet), el("span", { class: "when" }, it.at ? it.at.replace("T", " ").replace("Z", " UTC") : ""),
    el("div", {}, el("a", { href: it.url || it.canonical_url, target: "_blank", rel: "noopener noreferrer" }, it.title || it.canonical_url)),
    ...it.evidence.map(sentence)));
  const hist = el("ol", { class: "history" }, ...s.history.map((h) => el("li", {},
    `${h.at ? h.at.replace("T", " ").replace("Z", " UTC") : "?"}: ${h.category} ${h.previous === null ? "first reported at" : "rose from " + h.previous + " to"} ${h.count}`,
    " — ", el("a", { href: h.canonical_url, target: "_blank", rel: "noopener noreferrer" }, h.sitename || h.canonical_url))));
  box.replaceChildren(
    el("h2", {}, s.latest_title || s.title || "(untitled)"),
    s.latest_title && s.title && s.latest_title !== s.title ? el("div", { class: "first" }, "first reported as: " + s.title) : null,
    el("div", { class: "places" }, places(s)),
    el("div", { class: "figures" }, figure(s.killed, "killed", "killed"), figure(s.injured, "injured", "injured")),
    el("h3", {}, "toll over time"), chart(s.history),
    el("div", { class: "legend" }, el("span", { class: "k" }, "■ killed"), "  ", el("span", { class: "i" }, "■ injured")),
    hist,
    el("h3", {}, `what each outlet said (${s.items.length})`), ...items);
}

function closeStory() {
  const view = $("#story-view");
  view.hidden = true;
  delete view.dataset.id;
  history.replaceState(null, "", location.pathname + location.search);
}

$("#filters").addEventListener("submit", (e) => {
  e.preventDefault();
  filters = Object.fromEntries([...new FormData(e.target)].filter(([, v]) => v !== ""));
  load(true);
});
more.addEventListener("click", () => load(false));
new IntersectionObserver((entries) => {  // scrolling to the end loads the next page
  if (entries.some((e) => e.isIntersecting) && next) load(false);
}).observe(more);
$("#close").addEventListener("click", closeStory);
document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeStory(); });

load(true).then(() => {
  const m = location.hash.match(/^#story=(.+)$/);
  if (m) openStory(decodeURIComponent(m[1]));
});
connect();
