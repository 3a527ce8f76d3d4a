// Shoebox gallery: plain JavaScript, no framework, no build step.
// Every name shown (files, albums, people) goes through textContent or an
// attribute, never through HTML parsing.
"use strict";

const S = { user: "", csrf: "", items: [], ctx: null, observer: null, sel: null, gen: 0 };

// el builds an element: el("div", {class: "x", onclick: fn}, child, "text").
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}

function enc(p) { return p.split("/").map(encodeURIComponent).join("/"); }
function objURL(b, k) { return "api/v1/objects/" + encodeURIComponent(b) + "/" + enc(k); }
function fileURL(b, k) { return "api/v1/files/" + encodeURIComponent(b) + "/" + enc(k); }

class APIError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

async function api(method, url, body) {
  const h = { "X-Shoebox-App": "1" };
  if (method !== "GET") h["X-CSRF-Token"] = S.csrf;
  let data;
  if (body instanceof URLSearchParams) data = body;
  else if (body !== undefined) { h["Content-Type"] = "application/json"; data = JSON.stringify(body); }
  const r = await fetch(url, { method, headers: h, body: data, credentials: "same-origin" });
  if (r.status === 204) return null;
  const j = await r.json().catch(() => ({}));
  if (!r.ok) {
    if (r.status === 401 && S.user) { S.user = ""; showSignIn(); }
    throw new APIError(r.status, j.error || r.statusText);
  }
  return j;
}

function main() { return document.getElementById("main"); }

function flash(msg, bad) {
  const f = document.getElementById("flash");
  if (!f) return;
  f.textContent = msg;
  f.className = bad ? "flash bad" : "flash";
  if (msg) setTimeout(() => { if (f.textContent === msg) f.textContent = ""; }, 6000);
}

// fail shows an error of an action to the user (never in the console:
// an error the user can act on is not a bug of the page).
function fail(e) { flash(e.message || String(e), true); }

function fmtSize(n) {
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}

// fmtExposure: "1/250 s · f/8 · ISO 100 · 35 mm", what is known of it.
function fmtExposure(m) {
  const out = [];
  const t = m.exposure_time;
  if (t > 0) out.push((t < 0.5 ? "1/" + Math.round(1 / t) : String(Math.round(t * 10) / 10)) + " s");
  if (m.f_number > 0) out.push("f/" + Math.round(m.f_number * 10) / 10);
  if (m.iso > 0) out.push("ISO " + m.iso);
  if (m.focal_length > 0) out.push(Math.round(m.focal_length * 10) / 10 + " mm");
  return out.join(" · ");
}

function fmtDay(day) {
  if (!day) return "Undated";
  const d = new Date(day + "T12:00:00");
  if (isNaN(d)) return day;
  return d.toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
}

function fmtMonth(m) {
  const d = new Date(m + "-15T12:00:00");
  return isNaN(d) ? m : d.toLocaleDateString(undefined, { month: "short" });
}

// ---- sign-in ----

function showSignIn(msg) {
  document.body.replaceChildren();
  const err = el("p", { class: "error", id: "signin-error", role: "alert", text: msg || "" });
  const form = el("form", { id: "signin", class: "signin" },
    el("h1", { text: "Shoebox" }),
    el("label", {}, "User", el("input", { name: "user", id: "user", autocomplete: "username", required: true })),
    el("label", {}, "Password or app password", el("input", { name: "password", id: "password", type: "password", autocomplete: "current-password", required: true })),
    el("button", { type: "submit", id: "signin-button", text: "Sign in" }),
    err);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    try {
      const j = await api("POST", "api/v1/session", new URLSearchParams(new FormData(form)));
      S.user = j.user; S.csrf = j.csrf;
      start();
    } catch (e) {
      err.textContent = e.message;
    }
  });
  document.body.append(form);
  form.querySelector("input").focus();
}

async function signOut() {
  try { await api("DELETE", "api/v1/session"); } catch (e) { /* signed out anyway */ }
  S.user = ""; S.csrf = "";
  location.hash = "";
  showSignIn("Signed out.");
}

// ---- layout and routing ----

const views = [
  ["#/", "Timeline"], ["#/albums", "Albums"], ["#/people", "People"], ["#/places", "Places"], ["#/tags", "Tags"],
  ["#/duplicates", "Duplicates"], ["#/trash", "Trash"], ["#/upload", "Upload"],
];

function start() {
  document.body.replaceChildren(
    el("header", { class: "top" },
      el("a", { class: "brand", href: "#/", text: "Shoebox" }),
      el("nav", {}, views.map(([h, t]) => el("a", { href: h, "data-view": t.toLowerCase(), text: t }))),
      searchBox(),
      el("span", { class: "who", id: "who", text: S.user }),
      el("button", { id: "signout", onclick: signOut, text: "Sign out" })),
    el("div", { id: "flash", class: "flash", role: "status" }),
    el("main", { id: "main" }));
  route();
}

window.addEventListener("hashchange", () => { if (S.user) route(); });

function route() {
  closeViewer();
  S.sel = null;
  S.gen = (S.gen || 0) + 1;
  if (S.observer) { S.observer.disconnect(); S.observer = null; }
  const h = location.hash || "#/";
  const [, view, arg] = h.match(/^#\/([^/]*)\/?(.*)$/) || [null, "", ""];
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("on", a.getAttribute("href") === "#/" + view || (view === "" && a.getAttribute("href") === "#/"));
  }
  const name = arg ? decodeURIComponent(arg) : "";
  const run = {
    "": () => timeline(),
    "albums": () => name ? albumView(name) : albumsView(),
    "people": () => name ? personView(name) : peopleView(),
    "duplicates": () => duplicatesView(),
    "trash": () => trashView(),
    "upload": () => uploadView(),
    "search": () => searchView(arg),
    "places": () => placesView(arg),
    "tags": () => tagsView(),
  }[view];
  main().replaceChildren();
  (run || (() => main().append(el("p", { text: "No such page." }))))();
}

// ---- grids ----

function tile(it, i) {
  const img = it.thumbnail
    ? el("img", { src: it.thumbnail, alt: it.name, loading: "lazy", decoding: "async" })
    : el("span", { class: "nothumb", text: it.name });
  const t = el("button", {
    class: "tile" + (it.kind === "video" ? " video" : ""), "data-bucket": it.bucket, "data-key": it.key,
    "data-date": it.date || "", title: it.name, onclick: (e) => tileClick(e, i),
  }, img, it.kind === "video" ? el("span", { class: "badge", text: "▶" }) : null, el("span", { class: "check", "aria-hidden": "true" }));
  if (S.sel && S.sel.keys.has(selKey(it))) t.classList.add("selected");
  return t;
}

function grid(items, offset) {
  return el("div", { class: "grid" }, items.map((it, j) => tile(it, offset + j)));
}

// ---- selection ----
// In select mode (the Select button, or a Ctrl/Shift-click on a photo) a
// click toggles a photo and a Shift-click selects the range from the
// last photo clicked; the bar above the grid adds the selection to an
// album or moves it to the trash.

function selKey(it) { return it.bucket + "\u0000" + it.key; }

function tileClick(e, i) {
  const it = S.items[i];
  if (!it) return;
  // Only where the page has a selection bar (the timeline).
  if (!S.sel && (e.shiftKey || e.ctrlKey || e.metaKey) && document.getElementById("selectbar")) selectMode(true);
  if (!S.sel) { openViewer(i); return; }
  e.preventDefault();
  if (e.shiftKey && S.sel.last !== null && S.items[S.sel.last]) {
    const [a, b] = S.sel.last < i ? [S.sel.last, i] : [i, S.sel.last];
    for (let j = a; j <= b; j++) S.sel.keys.add(selKey(S.items[j]));
  } else if (S.sel.keys.has(selKey(it))) {
    S.sel.keys.delete(selKey(it));
  } else {
    S.sel.keys.add(selKey(it));
  }
  S.sel.last = i;
  paintSelection();
}

function selectedItems() {
  return S.sel ? S.items.filter((it) => S.sel.keys.has(selKey(it))) : [];
}

function paintSelection() {
  document.querySelectorAll("#main .tile").forEach((t) => {
    t.classList.toggle("selected", !!S.sel && S.sel.keys.has(t.dataset.bucket + "\u0000" + t.dataset.key));
  });
  const bar = document.getElementById("selectbar");
  if (!bar) return;
  bar.classList.toggle("on", !!S.sel);
  const n = selectedItems().length;
  document.getElementById("sel-count").textContent = S.sel ? n + " selected" : "";
  for (const id of ["sel-add", "sel-trash"]) document.getElementById(id).disabled = !n;
}

function selectMode(on) {
  S.sel = on ? { keys: new Set(), last: null } : null;
  paintSelection();
}

// selectBar is the bar of a grid whose photos can be selected.
function selectBar() {
  const albumSel = el("select", { id: "sel-album" }, el("option", { value: "", text: "Add to album…" }));
  const bar = el("div", { id: "selectbar", class: "selectbar inline" },
    el("button", { id: "select-mode", onclick: () => selectMode(!S.sel), text: "Select" }),
    el("span", { id: "sel-count", class: "count" }),
    el("span", { class: "seltools" },
      albumSel,
      el("button", { id: "sel-add", onclick: () => addSelection(albumSel.value), text: "Add to album", disabled: true }),
      el("button", { id: "sel-trash", class: "danger", onclick: trashSelection, text: "Move to trash", disabled: true }),
      el("button", { id: "sel-cancel", onclick: () => selectMode(false), text: "Cancel" })));
  api("GET", "api/v1/albums").then((j) => {
    for (const a of j.albums) albumSel.append(el("option", { value: a.name, text: a.name }));
  }).catch(fail);
  return bar;
}

async function addSelection(name) {
  const items = selectedItems();
  if (!name) { flash("Choose an album first.", true); return; }
  if (!items.length) return;
  try {
    await api("POST", "api/v1/albums/" + encodeURIComponent(name) + "/items", { items: items.map((it) => ({ bucket: it.bucket, key: it.key })) });
    flash("Added " + items.length + " to " + name + ".");
    selectMode(false);
  } catch (e) { fail(e); }
}

async function trashSelection() {
  const items = selectedItems();
  if (!items.length) return; // the trash keeps them: restore undoes this
  let done = 0;
  for (const it of items) {
    try {
      await api("DELETE", objURL(it.bucket, it.key));
      done++;
      S.items.splice(S.items.indexOf(it), 1);
      const t = document.querySelector(`#main .tile[data-key="${CSS.escape(it.key)}"][data-bucket="${CSS.escape(it.bucket)}"]`);
      if (t) t.remove();
    } catch (e) { fail(e); break; }
  }
  if (done === items.length) flash("Moved " + done + " to the trash.");
  selectMode(false);
  reindexTiles();
}

// ---- timeline ----

async function timeline(from) {
  S.items = []; S.ctx = { kind: "timeline" }; S.sel = null;
  const m = main();
  const days = el("div", { id: "days" });
  const sentinel = el("div", { id: "more", class: "more", text: "Loading…" });
  const scrub = el("aside", { id: "scrubber", class: "scrubber" });
  m.replaceChildren(el("div", { class: "timeline" }, el("div", { class: "stream" }, selectBar(), days, sentinel), scrub));
  let next = "", loading = false, done = false;
  let lastDay = null;
  async function more() {
    if (loading || done) return;
    loading = true;
    try {
      let url = "api/v1/timeline?limit=120";
      if (next) url += "&cursor=" + encodeURIComponent(next);
      else if (from) url += "&from=" + encodeURIComponent(from);
      const page = await api("GET", url);
      for (const it of page.items) {
        const i = S.items.length;
        S.items.push(it);
        if (!lastDay || lastDay.day !== it.day) {
          const people = el("span", { class: "daypeople" });
          lastDay = { day: it.day, grid: el("div", { class: "grid" }), people, names: new Set() };
          days.append(el("section", { class: "day", "data-day": it.day },
            el("h2", {}, el("span", { text: fmtDay(it.day) }), people), lastDay.grid));
        }
        lastDay.grid.append(tile(it, i));
        for (const p of [it.place, ...(it.people || [])]) {
          if (p && !lastDay.names.has(p)) { lastDay.names.add(p); lastDay.people.textContent = " · " + [...lastDay.names].join(", "); }
        }
      }
      next = page.next || "";
      if (!next) { done = true; sentinel.textContent = S.items.length ? "" : "No photos yet: upload some."; sentinel.classList.add("end"); }
    } catch (e) {
      fail(e);
    } finally {
      loading = false;
    }
    // Still on screen (a tall window): load on.
    if (!done && sentinel.getBoundingClientRect().top < window.innerHeight + 800) more();
  }
  S.observer = new IntersectionObserver((ents) => { if (ents.some((e) => e.isIntersecting)) more(); }, { rootMargin: "800px" });
  S.observer.observe(sentinel);
  more();
  try {
    const ms = (await api("GET", "api/v1/timeline/months")).months;
    let year = "";
    for (const mo of ms) {
      const y = mo.month.slice(0, 4);
      if (y !== year) { year = y; scrub.append(el("a", { class: "year", href: "#", "data-from": y, text: y, onclick: (e) => { e.preventDefault(); timeline(y); } })); }
      scrub.append(el("a", { class: "month", href: "#", "data-from": mo.month, text: fmtMonth(mo.month), onclick: (e) => { e.preventDefault(); timeline(mo.month); } }));
    }
  } catch (e) { fail(e); }
}

// ---- viewer ----

let touchX = null;

function closeViewer() {
  const v = document.getElementById("viewer");
  if (v) v.remove();
  document.removeEventListener("keydown", onKey);
}

function onKey(e) {
  const v = document.getElementById("viewer");
  if (!v) return;
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
  if (e.key === "ArrowRight") { e.preventDefault(); step(1); }
  else if (e.key === "ArrowLeft") { e.preventDefault(); step(-1); }
  else if (e.key === "Escape") closeViewer();
}

function step(d) {
  const v = document.getElementById("viewer");
  const i = Number(v.dataset.index) + d;
  if (i >= 0 && i < S.items.length) openViewer(i);
}

function openViewer(i) {
  const it = S.items[i];
  if (!it) return;
  let v = document.getElementById("viewer");
  if (!v) {
    v = el("div", { id: "viewer", class: "viewer", role: "dialog", "aria-modal": "true" });
    v.addEventListener("touchstart", (e) => { touchX = e.changedTouches[0].clientX; }, { passive: true });
    v.addEventListener("touchend", (e) => {
      if (touchX === null) return;
      const dx = e.changedTouches[0].clientX - touchX;
      touchX = null;
      if (Math.abs(dx) > 50) step(dx < 0 ? 1 : -1);
    });
    document.body.append(v);
    document.addEventListener("keydown", onKey);
  }
  v.dataset.index = i;
  v.dataset.key = it.key;
  const media = it.kind === "video"
    ? el("video", { src: fileURL(it.bucket, it.key), controls: true, preload: "metadata", poster: it.thumbnail ? objURL(it.bucket, it.key) + "/thumbnail?size=preview" : null })
    : el("div", { class: "frame", id: "frame" }, el("img", { id: "preview", src: objURL(it.bucket, it.key) + "/thumbnail?size=preview", alt: it.name }));
  const details = el("dl", { id: "details", class: "details" });
  const actions = el("div", { class: "actions" },
    el("a", { class: "button", id: "download", href: fileURL(it.bucket, it.key) + "?download=1", download: it.name, text: "Download original" }),
    el("button", { id: "delete", onclick: () => deleteItem(it), text: "Delete" }));
  if (S.ctx && S.ctx.kind === "album") {
    actions.append(el("button", { id: "album-remove", onclick: () => albumRemove(S.ctx.name, it), text: "Remove from album" }));
  }
  if (S.ctx && S.ctx.kind === "person" && S.ctx.editable) {
    actions.append(el("button", { id: "not-person", onclick: () => rejectPerson(S.ctx.id, it), text: "Not " + S.ctx.label }));
  }
  const albumSel = el("select", { id: "album-select" }, el("option", { value: "", text: "Add to album…" }));
  const addBtn = el("button", { id: "album-add", onclick: () => albumAdd(albumSel.value, it), text: "Add" });
  actions.append(el("span", { class: "addalbum" }, albumSel, addBtn));
  v.replaceChildren(
    el("div", { class: "stage" },
      el("button", { class: "nav prev", id: "prev", title: "Previous (←)", onclick: () => step(-1), disabled: i === 0, text: "‹" }),
      media,
      el("button", { class: "nav next", id: "next", title: "Next (→)", onclick: () => step(1), disabled: i === S.items.length - 1, text: "›" }),
      el("button", { class: "close", id: "close", title: "Close (Esc)", onclick: closeViewer, text: "×" })),
    el("aside", { class: "panel" }, el("h3", { id: "viewer-name", text: it.name }), details, actions));
  fillDetails(details, it);
  api("GET", "api/v1/albums").then((j) => {
    for (const a of j.albums) albumSel.append(el("option", { value: a.name, text: a.name }));
  }).catch(fail);
}

function row(dl, label, value, field) {
  if (value === undefined || value === null || value === "") return;
  dl.append(el("dt", { text: label }), el("dd", { "data-field": field, text: value }));
}

async function fillDetails(dl, it) {
  let o;
  try { o = await api("GET", objURL(it.bucket, it.key) + "?albums=1"); } catch (e) { fail(e); return; }
  const v = document.getElementById("viewer");
  if (!v || v.dataset.key !== it.key) return; // moved on
  const m = o.media || {};
  row(dl, "Date", m.taken_local ? m.taken_local.replace("T", " ") + (m.offset ? " " + m.offset : "") : "", "date");
  row(dl, "Date from", m.date_source, "date_source");
  row(dl, "Camera", [m.make, m.model].filter(Boolean).join(" "), "camera");
  row(dl, "Lens", m.lens, "lens");
  row(dl, "Exposure", fmtExposure(m), "exposure");
  row(dl, "Size", (m.width ? m.width + " × " + m.height + " · " : "") + fmtSize(o.size), "size");
  if (m.duration_s) row(dl, "Duration", m.duration_s.toFixed(1) + " s", "duration");
  if (m.place) row(dl, "Place", [m.place.city, m.place.region, m.place.country].filter(Boolean).join(", "), "place");
  if (m.tags && m.tags.length) row(dl, "Tags", m.tags.join(", "), "tags");
  if (m.rating) row(dl, "Rating", m.rating < 0 ? "rejected" : "★".repeat(m.rating), "rating");
  if (m.lat !== undefined && m.lon !== undefined) row(dl, "Location", m.lat.toFixed(5) + ", " + m.lon.toFixed(5), "location");
  const people = [...new Set((m.faces || []).map((f) => f.person_name).filter(Boolean))];
  // Face boxes over the preview (relative to the displayed image).
  const frame = document.getElementById("frame");
  if (frame) {
    for (const f of m.faces || []) {
      const [x, y, w, h] = f.box || [];
      if (!(w > 0 && h > 0)) continue;
      frame.append(el("div", { class: "facebox", style: null, "data-person": f.person_name || "" },
        f.person_name ? el("span", { text: f.person_name }) : null));
      const b = frame.lastChild;
      b.style.left = (x * 100) + "%"; b.style.top = (y * 100) + "%";
      b.style.width = (w * 100) + "%"; b.style.height = (h * 100) + "%";
    }
  }
  row(dl, "People", people.join(", "), "people");
  row(dl, "Albums", (o.albums || []).join(", "), "albums");
  row(dl, "Path", o.bucket + "/" + o.key, "path");
  dl.dataset.loaded = "1";
}

async function deleteItem(it) {
  try {
    await api("DELETE", objURL(it.bucket, it.key));
    flash("Moved " + it.name + " to the trash.");
    const i = S.items.indexOf(it);
    S.items.splice(i, 1);
    const t = document.querySelector(`.tile[data-key="${CSS.escape(it.key)}"][data-bucket="${CSS.escape(it.bucket)}"]`);
    if (t) t.remove();
    if (S.items.length === 0) closeViewer(); else openViewer(Math.min(i, S.items.length - 1));
    reindexTiles();
  } catch (e) { fail(e); }
}

function reindexTiles() {
  // Tiles open by index: after a removal, rebind them.
  document.querySelectorAll("#main .tile").forEach((t) => {
    const i = S.items.findIndex((x) => x.key === t.dataset.key && x.bucket === t.dataset.bucket);
    t.replaceWith(tile(S.items[i], i));
  });
}

// ---- search ----
// A search's page is #/search/<query string of GET api/v1/search>: the
// box's text is q, and the filters the page offers (country, city, tag,
// rating, kind) are the API's own parameters.

const searchFilters = ["country", "city", "tag", "rating", "kind"];

function searchBox() {
  const q = el("input", { id: "search", type: "search", placeholder: "Search", "aria-label": "Search" });
  const form = el("form", { class: "search", role: "search" }, q);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (q.value.trim()) p.set("q", q.value.trim());
    // The filters chosen on the search page stay.
    for (const f of searchFilters) {
      const s = document.getElementById("filter-" + f);
      if (s && s.value) p.set(f, s.value);
    }
    if ([...p.keys()].length) location.hash = "#/search/" + p.toString();
  });
  return form;
}

function searchParams(arg) {
  // An older link (#/search/<text>) is free text.
  return arg.includes("=") ? new URLSearchParams(arg) : new URLSearchParams({ q: decodeURIComponent(arg) });
}

function searchTitle(p) {
  const parts = [];
  if (p.get("q")) parts.push(p.get("q"));
  if (p.get("city")) parts.push(p.get("city"));
  if (p.get("country")) parts.push(p.get("country"));
  if (p.get("tag")) parts.push("#" + p.get("tag"));
  if (p.get("rating")) parts.push("★".repeat(Number(p.get("rating"))) + " and up");
  if (p.get("kind")) parts.push(p.get("kind") + "s");
  return parts.join(" · ");
}

async function searchView(arg) {
  const m = main();
  const p = searchParams(arg);
  S.ctx = { kind: "search" };
  S.items = [];
  const box = document.getElementById("search");
  if (box) box.value = p.get("q") || "";
  // A filter changed: the same search with that filter's new value.
  const go = (f, v) => {
    const n = new URLSearchParams(p);
    if (v) n.set(f, v); else n.delete(f);
    if (f === "country") n.delete("city"); // a city is in its country
    location.hash = "#/search/" + n.toString();
  };
  const pick = (f, label, opts) => {
    const s = el("select", { id: "filter-" + f, "aria-label": label }, el("option", { value: "", text: label }),
      opts.map(([v, t]) => el("option", { value: v, text: t })));
    s.addEventListener("change", () => go(f, s.value));
    if (p.get(f) && ![...s.options].some((o) => o.value === p.get(f))) s.append(el("option", { value: p.get(f), text: p.get(f) }));
    s.value = p.get(f) || "";
    return s;
  };
  const filters = el("div", { class: "inline filters", id: "filters" },
    pick("rating", "Any rating", [1, 2, 3, 4, 5].map((n) => [String(n), "★".repeat(n) + " and up"])),
    pick("kind", "Photos and videos", [["photo", "Photos"], ["video", "Videos"]]));
  m.replaceChildren(el("h1", { id: "search-title", text: "Search: " + searchTitle(p) }), filters);
  // The place and tag filters list what the library has.
  const gen = S.gen = (S.gen || 0) + 1; // a newer page drops this one's late answers
  Promise.all([api("GET", "api/v1/places"), api("GET", "api/v1/tags")]).then(([pl, tg]) => {
    if (S.gen !== gen) return;
    filters.prepend(pick("country", "Any country", pl.countries.map((c) => [c, c])),
      pick("tag", "Any tag", tg.tags.map((t) => [t, t])));
    if (p.get("city")) filters.prepend(pick("city", "Any city", []));
  }).catch(fail);
  try {
    const q = new URLSearchParams(p);
    q.set("limit", "500");
    const j = await api("GET", "api/v1/search?" + q.toString());
    if (S.gen !== gen) return;
    S.items = j.items.map((h) => ({
      bucket: h.bucket, key: h.key, name: h.key.split("/").pop(), date: h.taken, kind: h.kind,
      thumbnail: objURL(h.bucket, h.key) + "/thumbnail?size=small",
    }));
    m.append(S.items.length ? grid(S.items, 0) : el("p", { id: "no-results", text: "Nothing found." }));
  } catch (e) { fail(e); }
}

// ---- places and tags ----
// Countries, then a country's cities (as /by-place lists them); a city's
// photos are a search by country and city.

async function placesView(arg) {
  const m = main();
  const country = arg ? decodeURIComponent(arg) : "";
  const list = el("div", { class: "cards", id: "places" });
  m.replaceChildren(el("h1", { id: "places-title" }, country ? [el("a", { href: "#/places", text: "Places" }), " › ", country] : "Places"), list);
  try {
    if (!country) {
      const j = await api("GET", "api/v1/places");
      if (!j.countries.length) list.append(el("p", { text: "No places yet: photos with GPS positions get one." }));
      for (const c of j.countries) {
        list.append(el("a", { class: "card place", href: "#/places/" + encodeURIComponent(c), "data-name": c }, el("span", { class: "label", text: c })));
      }
      return;
    }
    const j = await api("GET", "api/v1/places/" + encodeURIComponent(country));
    for (const c of j.cities) {
      list.append(el("a", { class: "card place", href: "#/search/" + new URLSearchParams({ country, city: c }).toString(), "data-name": c },
        el("span", { class: "label", text: c })));
    }
  } catch (e) { fail(e); }
}

async function tagsView() {
  const m = main();
  const list = el("div", { class: "cards", id: "tags" });
  m.replaceChildren(el("h1", { text: "Tags" }), list);
  try {
    const j = await api("GET", "api/v1/tags");
    if (!j.tags.length) list.append(el("p", { id: "no-tags", text: "No tags yet: keywords other tools wrote (XMP) show here." }));
    for (const t of j.tags) {
      list.append(el("a", { class: "card tag", href: "#/search/" + new URLSearchParams({ tag: t }).toString(), "data-name": t }, el("span", { class: "label", text: t })));
    }
  } catch (e) { fail(e); }
}

// ---- albums ----

async function albumsView() {
  const m = main();
  const input = el("input", { id: "album-name", placeholder: "New album name", required: true });
  const form = el("form", { id: "new-album", class: "inline" }, input, el("button", { type: "submit", id: "album-create", text: "Create album" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await api("POST", "api/v1/albums", { name: input.value }); flash("Album created."); route(); } catch (err) { fail(err); }
  });
  const list = el("div", { class: "cards", id: "albums" });
  m.replaceChildren(el("h1", { text: "Albums" }), form, list);
  try {
    const j = await api("GET", "api/v1/albums");
    if (!j.albums.length) list.append(el("p", { text: "No albums yet." }));
    for (const a of j.albums) {
      list.append(el("a", { class: "card album", href: "#/albums/" + encodeURIComponent(a.name), "data-name": a.name },
        a.cover ? el("img", { src: a.cover, alt: "", loading: "lazy" }) : el("span", { class: "nothumb" }),
        el("span", { class: "label", text: a.name }), el("span", { class: "count", text: a.count + " photos" })));
    }
  } catch (e) { fail(e); }
}

async function albumView(name) {
  const m = main();
  S.ctx = { kind: "album", name };
  const rn = el("input", { id: "album-rename", value: name });
  const form = el("form", { class: "inline" }, rn, el("button", { type: "submit", text: "Rename" }),
    el("button", { type: "button", id: "album-delete", onclick: async () => {
      if (!confirm("Delete the album (its photos stay)?")) return;
      try { await api("DELETE", "api/v1/albums/" + encodeURIComponent(name)); location.hash = "#/albums"; } catch (e) { fail(e); }
    }, text: "Delete album" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await api("PATCH", "api/v1/albums/" + encodeURIComponent(name), { name: rn.value }); location.hash = "#/albums/" + encodeURIComponent(rn.value); } catch (err) { fail(err); }
  });
  m.replaceChildren(el("h1", { id: "album-title", text: name }), form);
  try {
    const j = await api("GET", "api/v1/albums/" + encodeURIComponent(name));
    S.items = j.items;
    m.append(j.items.length ? grid(j.items, 0) : el("p", { text: "Empty: add photos from the viewer." }));
  } catch (e) { fail(e); }
}

async function albumAdd(name, it) {
  if (!name) { flash("Choose an album first.", true); return; }
  try { await api("POST", "api/v1/albums/" + encodeURIComponent(name) + "/items", { bucket: it.bucket, key: it.key }); flash("Added to " + name + "."); } catch (e) { fail(e); }
}

async function albumRemove(name, it) {
  try {
    await api("DELETE", "api/v1/albums/" + encodeURIComponent(name) + "/items/" + encodeURIComponent(it.bucket) + "/" + enc(it.key));
    closeViewer(); route();
  } catch (e) { fail(e); }
}

// ---- people ----

async function peopleView() {
  const m = main();
  const list = el("div", { class: "cards", id: "people" });
  m.replaceChildren(el("h1", { text: "People" }), list);
  try {
    const j = await api("GET", "api/v1/people");
    if (!j.people.length) list.append(el("p", { text: "Nobody recognised yet (faces need the face models: shoebox models install)." }));
    for (const p of j.people) {
      list.append(el("a", { class: "card person", href: "#/people/" + encodeURIComponent(p.id), "data-id": p.id },
        el("img", { src: p.cover, alt: "", loading: "lazy", class: "face" }),
        el("span", { class: "label", text: p.label }), el("span", { class: "count", text: p.faces + " photos" })));
    }
  } catch (e) { fail(e); }
}

async function personView(id) {
  const m = main();
  try {
    const j = await api("GET", "api/v1/people/" + encodeURIComponent(id));
    const all = await api("GET", "api/v1/people");
    const p = j.person;
    S.ctx = { kind: "person", id: p.id, label: p.label, editable: all.editable };
    S.items = j.items;
    const rn = el("input", { id: "person-name", value: p.name || "", placeholder: "Name" });
    const form = el("form", { class: "inline", id: "rename-person" }, rn, el("button", { type: "submit", text: "Rename" }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await api("PATCH", "api/v1/people/" + encodeURIComponent(p.id), { name: rn.value }); flash("Renamed."); location.hash = "#/people"; } catch (err) { fail(err); }
    });
    const into = el("select", { id: "merge-into" }, el("option", { value: "", text: "Merge into…" }),
      all.people.filter((q) => q.id !== p.id).map((q) => el("option", { value: q.id, text: q.label })));
    const merge = el("button", { type: "button", onclick: async () => {
      if (!into.value) return;
      try { await api("POST", "api/v1/people/" + encodeURIComponent(p.id) + "/merge", { into: into.value }); location.hash = "#/people/" + encodeURIComponent(into.value); } catch (e) { fail(e); }
    }, text: "Merge" });
    const hide = el("button", { type: "button", id: "hide-person", onclick: async () => {
      try { await api("POST", "api/v1/people/" + encodeURIComponent(p.id) + "/hide"); location.hash = "#/people"; } catch (e) { fail(e); }
    }, text: "Hide" });
    m.replaceChildren(el("h1", { id: "person-title", text: p.label }),
      all.editable ? el("div", { class: "inline" }, form, into, merge, hide) : null,
      grid(j.items, 0));
  } catch (e) { fail(e); }
}

async function rejectPerson(id, it) {
  try { await api("POST", "api/v1/people/" + encodeURIComponent(id) + "/reject", { bucket: it.bucket, key: it.key }); closeViewer(); route(); } catch (e) { fail(e); }
}

// ---- duplicates ----

async function duplicatesView() {
  const m = main();
  const list = el("div", { id: "groups" });
  m.replaceChildren(el("h1", { text: "Duplicates" }), list);
  await duplicatesPage(list, "");
}

// duplicatesPage appends a page of groups, and a button for the next.
async function duplicatesPage(list, cursor) {
  try {
    const j = await api("GET", "api/v1/duplicates" + (cursor ? "?cursor=" + encodeURIComponent(cursor) : ""));
    if (!cursor && !j.groups.length) list.append(el("p", { id: "no-duplicates", text: "No duplicates." }));
    for (const g of j.groups) {
      list.append(el("section", { class: "dupgroup", "data-name": g.name },
        el("h2", { text: g.name }),
        el("div", { class: "copies" }, g.items.map((it) => el("figure", { class: "copy", "data-bucket": it.bucket, "data-key": it.key },
          it.thumbnail ? el("img", { src: it.thumbnail, alt: it.name, loading: "lazy" }) : el("span", { class: "nothumb" }),
          el("figcaption", {},
            el("div", { class: "path", text: it.bucket + "/" + it.key }),
            el("div", { text: (it.width ? it.width + " × " + it.height + " · " : "") + fmtSize(it.size) }),
            el("div", { text: it.date ? it.date.replace("T", " ") : "undated" }),
            el("button", { class: "keep", onclick: async () => {
              try {
                const r = await api("POST", "api/v1/duplicates/keep", { bucket: it.bucket, key: it.key });
                flash("Kept " + it.name + "; " + r.trashed.length + " moved to the trash.");
                route();
              } catch (e) { fail(e); }
            }, text: "Keep this, trash the others" })))))));
    }
    if (j.next) {
      const more = el("button", { id: "more-duplicates", text: "More groups", onclick: () => { more.remove(); duplicatesPage(list, j.next); } });
      list.append(more);
    }
  } catch (e) { fail(e); }
}

// ---- trash ----

async function trashView() {
  const m = main();
  const list = el("div", { id: "trash", class: "rows" });
  m.replaceChildren(el("h1", { text: "Trash" }), list);
  try {
    const j = await api("GET", "api/v1/trash");
    if (!j.items.length) list.append(el("p", { id: "trash-empty", text: "The trash is empty." }));
    for (const t of j.items) {
      list.append(el("div", { class: "trashrow", "data-id": t.id, "data-key": t.key },
        t.thumbnail ? el("img", { src: t.thumbnail, alt: "", loading: "lazy" }) : el("span", { class: "nothumb", text: t.dir ? "folder" : "" }),
        el("div", { class: "what" },
          el("div", { class: "label", text: t.name + (t.version ? " (replaced version)" : "") }),
          el("div", { class: "path", text: "from " + t.original_location }),
          el("div", { text: "deleted " + new Date(t.deleted_at).toLocaleString() + (t.purge ? " · purged " + new Date(t.purge).toLocaleDateString() : "") + " · " + fmtSize(t.size) })),
        el("button", { class: "restore", onclick: async () => {
          try { await api("POST", "api/v1/trash/" + encodeURIComponent(t.id) + "/restore"); flash("Restored " + t.name + "."); route(); } catch (e) { fail(e); }
        }, text: "Restore" }),
        el("button", { class: "purge danger", onclick: async () => {
          if (!confirm("Delete " + t.name + " for good?")) return;
          try { await api("DELETE", "api/v1/trash/" + encodeURIComponent(t.id)); route(); } catch (e) { fail(e); }
        }, text: "Delete for good" })));
    }
  } catch (e) { fail(e); }
}

// ---- upload ----

async function uploadView() {
  const m = main();
  const bucket = el("select", { id: "upload-bucket" });
  const prefix = el("input", { id: "upload-prefix", placeholder: "folder (optional)" });
  const files = el("input", { id: "upload-files", type: "file", multiple: true, accept: "image/*,video/*" });
  const dir = el("input", { id: "upload-folder", type: "file", webkitdirectory: true, multiple: true });
  const drop = el("div", { id: "drop", class: "drop", text: "Drop photos and folders here" });
  const prog = el("ul", { id: "progress", class: "progress" });
  m.replaceChildren(el("h1", { text: "Upload" }),
    el("div", { class: "inline" }, el("label", {}, "Bucket ", bucket), el("label", {}, "Folder ", prefix)),
    el("div", { class: "inline" }, el("label", {}, "Files ", files), el("label", {}, "A folder ", dir)),
    drop, prog);
  try {
    const j = await api("GET", "api/v1/buckets");
    for (const b of j.buckets) bucket.append(el("option", { value: b.name, text: b.name }));
    if (!j.buckets.length) flash("Make a bucket first (a folder at the top of /dav/).", true);
  } catch (e) { fail(e); }
  const queue = (list) => uploadAll([...list].map((f) => ({ file: f, path: f.webkitRelativePath || f.name })), bucket.value, prefix.value, prog);
  files.addEventListener("change", () => queue(files.files));
  dir.addEventListener("change", () => queue(dir.files));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const out = [];
    const walk = async (entry, p) => {
      if (entry.isFile) {
        out.push({ file: await new Promise((ok, no) => entry.file(ok, no)), path: p + entry.name });
      } else if (entry.isDirectory) {
        const r = entry.createReader();
        for (;;) {
          const batch = await new Promise((ok, no) => r.readEntries(ok, no));
          if (!batch.length) break;
          for (const c of batch) await walk(c, p + entry.name + "/");
        }
      }
    };
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    if (entries.length) { for (const en of entries) await walk(en, ""); } else out.push(...[...e.dataTransfer.files].map((f) => ({ file: f, path: f.name })));
    uploadAll(out, bucket.value, prefix.value, prog);
  });
}

async function uploadAll(list, bucket, prefix, prog) {
  if (!bucket) { flash("Choose a bucket.", true); return; }
  prefix = prefix.replace(/^\/+|\/+$/g, "");
  let ok = 0;
  for (const { file, path } of list) {
    const key = (prefix ? prefix + "/" : "") + path;
    const bar = el("progress", { max: 1, value: 0 });
    const state = el("span", { class: "state", text: "waiting" });
    prog.append(el("li", { "data-key": key }, el("span", { class: "name", text: key }), bar, state));
    try {
      await new Promise((resolve, reject) => {
        const x = new XMLHttpRequest();
        x.open("PUT", objURL(bucket, key));
        x.setRequestHeader("X-Shoebox-App", "1");
        x.setRequestHeader("X-CSRF-Token", S.csrf);
        x.setRequestHeader("X-Shoebox-Mtime", String(file.lastModified || ""));
        if (file.type) x.setRequestHeader("Content-Type", file.type);
        x.upload.onprogress = (e) => { if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; } };
        x.onload = () => {
          if (x.status >= 200 && x.status < 300) resolve();
          else { let msg = x.statusText; try { msg = JSON.parse(x.responseText).error || msg; } catch (_) { /* not JSON */ } reject(new Error(msg)); }
        };
        x.onerror = () => reject(new Error("network error"));
        state.textContent = "uploading";
        x.send(file);
      });
      bar.value = bar.max;
      state.textContent = "done";
      ok++;
    } catch (e) {
      state.textContent = "failed: " + e.message;
      state.classList.add("bad");
    }
  }
  flash(ok + " of " + list.length + " uploaded.", ok !== list.length);
}

// ---- start ----

async function boot() {
  try {
    const j = await api("GET", "api/v1/session");
    if (j.user) { S.user = j.user; S.csrf = j.csrf; start(); return; }
  } catch (e) { /* not signed in */ }
  showSignIn();
}

boot();
