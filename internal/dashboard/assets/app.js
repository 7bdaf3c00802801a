// surge live dashboard: receives the run's state by Server-Sent Events and
// draws it. No dependencies; charts are drawn on canvas.
"use strict";

const MAX_POINTS = 3600;
const COLORS = ["#2563eb", "#ea8c00", "#dc2626", "#7c3aed", "#16a34a", "#0891b2", "#db2777", "#65a30d"];
const state = { meta: null, points: [], stats: null, sorts: {}, tab: "charts", es: null, attachments: [], drawn: {}, workers: [], controls: {} };

const $ = (sel) => document.querySelector(sel);
const fmt = (v, d = 2) => (v == null || !isFinite(v)) ? "–" : Number(v).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: 0 });
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const clock = (s) => { s = Math.max(0, Math.round(s)); const m = Math.floor(s / 60); return m + ":" + String(s % 60).padStart(2, "0"); };

// ---- connection ------------------------------------------------------------

function connect() {
  const es = new EventSource("api/events");
  state.es = es;
  es.addEventListener("init", (e) => {
    const d = JSON.parse(e.data);
    state.meta = d;
    state.points = d.points || [];
    setControls(d.controls || {});
    setStats(d.stats);
    setAttachments(d.attachments || []);
    $("#workers-tab").hidden = $("#workers-download").hidden = !d.distributed;
    setWorkers(d.workers || []);
    renderConfig();
    renderCharts();
  });
  es.addEventListener("attachments", (e) => setAttachments(JSON.parse(e.data)));
  es.addEventListener("workers", (e) => setWorkers(JSON.parse(e.data).workers || []));
  es.addEventListener("tick", (e) => {
    const d = JSON.parse(e.data);
    if (d.meta) {
      const moved = d.meta.start !== state.meta.start;
      Object.assign(state.meta, d.meta);
      if (moved) renderConfig();
    }
    state.points.push(d.point);
    if (state.points.length > MAX_POINTS) state.points.splice(0, state.points.length - MAX_POINTS);
    setStats(d.stats);
    renderCharts();
  });
  es.addEventListener("finished", (e) => {
    const d = JSON.parse(e.data);
    setStats(d.stats);
    setAttachments(d.attachments || []);
    es.close();
  });
  es.onerror = () => {
    if (state.stats && state.stats.status === "finished") { es.close(); return; }
    setStatus("offline");
  };
}

// ---- header and tabs ----------------------------------------------------------

function setStatus(s) {
  const el = $("#status");
  el.textContent = s;
  el.className = "pill " + s;
  document.body.dataset.status = s;
  const live = s === "running" || s === "starting";
  const c = state.controls;
  $("#stop").disabled = !live || !c.stop;
  $("#reset").disabled = !live || !c.reset;
  for (const el of $("#users-form").elements) el.disabled = !live || !c.users;
}

// setControls marks the steering controls this run does not obey (a
// distributed master obeys only Stop): they stay disabled, and say why on
// hover and next to them.
function setControls(c) {
  state.controls = c;
  for (const [key, sel] of [["stop", "#stop"], ["users", "#users-form"], ["reset", "#reset"]]) {
    $(sel).classList.toggle("unavailable", !c[key]);
    $(sel).title = c[key] ? "" : c.why || "";
  }
  $("#steer-note").textContent = c.why || "";
  $("#steer-note").hidden = !c.why;
}

function setStats(st) {
  state.stats = st;
  setStatus(st.status);
  const last = state.points[state.points.length - 1];
  $("#k-elapsed").textContent = clock(st.elapsed);
  $("#k-users").textContent = fmt(st.users, 0);
  $("#k-rps").textContent = last ? fmt(last.rps, 1) : "–";
  const t = st.total;
  $("#k-fail").textContent = t && t.requests ? fmt(100 * t.failures / t.requests, 2) + "%" : "–";
  $("#k-p95").textContent = last && last.lat ? fmt(last.lat.p95) + " ms" : "–";
  $("#n-failures").textContent = st.failures.length ? st.failures.length : "";
  $("#n-exceptions").textContent = st.exceptions.length ? st.exceptions.length : "";
  if (st.final) showFinal(st.final);
  $("#report-hint").textContent = st.status === "finished" ? (st.final ? "" : "(the run failed: no report)") : "(ready when the run has finished)";
  renderTables();
  renderUsers(last);
  renderAttachments();
}

function showFinal(f) {
  const failed = f.thresholds.filter((t) => !t.pass);
  const lines = ["The run has finished."].concat(f.notes.map((n) => n.charAt(0).toUpperCase() + n.slice(1) + "."));
  if (f.thresholds.length) lines.push(failed.length ? failed.length + " threshold(s) failed: " + failed.map((t) => t.metric + " " + t.source).join(", ") : "All thresholds passed.");
  message(lines, failed.length ? "bad" : "ok");
}

// message shows one line, or several given as an array.
function message(text, kind) {
  const m = $("#message");
  m.innerHTML = [].concat(text).map(esc).join("<br>");
  m.className = "message " + (kind || "");
  m.hidden = false;
}

for (const b of document.querySelectorAll("#tabs button")) {
  b.addEventListener("click", () => {
    state.tab = b.dataset.tab;
    for (const o of document.querySelectorAll("#tabs button")) o.classList.toggle("active", o === b);
    for (const s of document.querySelectorAll(".tab")) s.classList.toggle("active", s.id === "tab-" + state.tab);
    if (state.tab === "charts") renderCharts();
    renderAttachments();
  });
}

// ---- steering -------------------------------------------------------------------

async function post(path, body) {
  try {
    const r = await fetch(path, { method: "POST", body: body, credentials: "same-origin" });
    const d = await r.json().catch(() => ({}));
    if (!r.ok) { message(d.error || ("request failed: " + r.status), "bad"); return null; }
    return d;
  } catch (e) {
    message("request failed: " + e, "bad");
    return null;
  }
}

$("#stop").addEventListener("click", async () => {
  // the run may have finished (and said so) before the answer to the stop
  // arrives: "stopping" must not replace "finished"
  if (await post("api/stop") && state.stats && state.stats.status !== "finished") {
    message(state.meta && state.meta.distributed ? "Stopping: the workers stop their load gracefully, then the master merges their results and the run ends."
      : "Stopping: running iterations get their graceful stop, then the run ends.");
    setStatus("stopping");
  }
});
$("#reset").addEventListener("click", async () => {
  if (await post("api/reset")) message("Statistics are reset at the next tick (charts keep their history).", "ok");
});
$("#users-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const d = await post("api/users", new URLSearchParams(new FormData(e.target)));
  if (d) message("Target set: " + d.users + " users" + (d.spawn_rate ? ", " + d.spawn_rate + " per second" : ", at once") + ".", "ok");
});

// ---- tables ---------------------------------------------------------------------

function sortRows(id, rows) {
  const s = state.sorts[id];
  if (!s) return rows;
  return rows.slice().sort((a, b) => {
    const x = a[s.key], y = b[s.key];
    const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return s.dir * c;
  });
}

for (const th of document.querySelectorAll("table.sortable th[data-key]")) {
  th.addEventListener("click", () => {
    const id = th.closest("table").id;
    const cur = state.sorts[id];
    const dir = cur && cur.key === th.dataset.key ? -cur.dir : (th.classList.contains("num") ? -1 : 1);
    state.sorts[id] = { key: th.dataset.key, dir: dir };
    for (const o of th.parentNode.children) o.classList.remove("asc", "desc");
    th.classList.add(dir > 0 ? "asc" : "desc");
    renderTables();
  });
}

function fill(id, rows, cells, empty) {
  const body = document.querySelector("#" + id + " tbody");
  if (!rows.length) {
    const n = document.querySelectorAll("#" + id + " thead th").length;
    body.innerHTML = '<tr class="empty"><td colspan="' + n + '">' + esc(empty) + "</td></tr>";
    return;
  }
  body.innerHTML = sortRows(id, rows).map((r) => "<tr>" + cells(r) + "</tr>").join("");
}

const statCells = (r) => "<td>" + esc(r.method) + "</td><td>" + esc(r.name) + "</td>" +
  '<td class="num">' + fmt(r.requests, 0) + '</td><td class="num' + (r.failures ? " bad" : "") + '">' + fmt(r.failures, 0) + "</td>" +
  ["med", "p90", "p95", "p99", "avg", "min", "max"].map((k) => '<td class="num">' + fmt(r[k]) + "</td>").join("") +
  '<td class="num">' + fmt(r.rps, 1) + '</td><td class="num">' + fmt(r.fps, 1) + "</td>";

function renderTables() {
  const st = state.stats;
  if (!st) return;
  fill("stats-table", st.requests, statCells, "no requests yet");
  $("#stats-table tfoot").innerHTML = st.total ? "<tr>" + statCells(st.total) + "</tr>" : "";
  $("#stats-window").textContent = "Totals over the last " + clock(st.since) + " (warm-up excluded, since the last reset). Click a column to sort.";
  $("#checks").hidden = !st.checks.length;
  fill("checks-table", st.checks, (c) => "<td>" + esc(c.name) + '</td><td class="num">' + fmt(c.passes, 0) + '</td><td class="num' + (c.fails ? " bad" : "") + '">' + fmt(c.fails, 0) + "</td>", "no checks");
  fill("failures-table", st.failures, (e) => '<td class="num">' + fmt(e.count, 0) + "</td><td>" + esc(e.where) + '</td><td class="msg">' + esc(e.message) + "</td>", "no failures");
  renderWorkers();
  fill("exceptions-table", st.exceptions, (e) => '<td class="num">' + fmt(e.count, 0) + '</td><td class="msg">' + esc(e.message) + '</td><td class="msg">' + esc(e.where) + "</td>", "no exceptions");
}

function renderUsers(last) {
  const st = state.stats;
  $("#u-active").textContent = fmt(st.users, 0);
  const input = $("#users-form input[name=users]");
  if (document.activeElement !== input) input.placeholder = fmt(st.target ? st.target.users : st.users, 0);
  $("#u-max").textContent = fmt(st.users_max, 0);
  if (st.target) $("#u-target").textContent = st.target.users + " users, " + (st.target.spawn_rate ? st.target.spawn_rate + " per second" : "at once");
  const mix = st.mix.map((m) => Object.assign({ spec: m.fixed_count ? "fixed " + m.fixed_count : m.weight ? "weight " + m.weight : "" }, m));
  fill("mix-table", mix, (m) => "<td>" + esc(m.scenario) + "</td><td>" + (m["class"] ? esc(m["class"]) : '<span class="hint">no user classes</span>') + '</td><td class="num">' + fmt(m.users, 0) +
    '</td><td class="num">' + fmt(m.share, 1) + ' %</td><td class="num">' + (m.spec ? esc(m.spec) : "–") + "</td>", st.status === "starting" ? "no users yet" : "no user mix (a distributed run shows only the total)");
  const scen = last && last.scen ? Object.keys(last.scen).sort().map((k) => ({ name: k, rps: last.scen[k] })) : [];
  fill("scenarios-table", scen, (s) => "<td>" + esc(s.name) + '</td><td class="num">' + fmt(s.rps, 1) + "</td>", "no scenario data yet");
}

// ---- workers (distributed run) ---------------------------------------------------

function setWorkers(rows) {
  state.workers = rows;
  const lost = rows.filter((w) => w.state === "lost").length;
  const badge = $("#n-workers");
  badge.textContent = rows.length ? (lost ? lost + " lost" : rows.length) : "";
  badge.classList.toggle("info", !lost);
  renderWorkers();
}

function renderWorkers() {
  const st = state.stats;
  fill("workers-table", state.workers, (w) => {
    const lost = w.state === "lost";
    return "<td>" + esc(w.name) + "</td><td>" + esc(w.addr) + '</td><td class="state ' + esc(w.state) + (lost ? " bad" : "") + '">' +
      esc(lost ? "lost at " + clock(w.lost_at || 0) : w.state) + '</td><td class="num">' + fmt(w.users, 0) +
      '</td><td class="num">' + fmt(w.rps, 1) + '</td><td class="num">' + fmt(w.avg_rps, 1) + '</td><td class="num">' + fmt(w.cpu, 0) +
      ' %</td><td class="num">' + fmt(w.requests, 0) + '</td><td class="num">' + fmt(w.heartbeat_age, 1) + " s ago</td><td>" +
      esc((w.segments || []).join("; ")) + "</td>";
  }, st && st.status === "finished" ? "no worker took part" : "waiting for workers to connect");
}

// ---- profiles and SQL --------------------------------------------------------------

const PLACEHOLDERS = {
  profiles: {
    finished: "No profile: run with <code>--profile-pid PID</code> or <code>--profile-url URL</code> to record CPU profiles of the service under test, one per load stage, with flame graphs.",
    running: "No profile yet. With <code>--profile-pid PID</code> or <code>--profile-url URL</code>, the CPU profiles of the service, one per stage, appear here when the run ends.",
  },
  sql: {
    finished: "No SQL: run with <code>--pg DSN</code> to record the statements that ran during the test (pg_stat_statements), and <code>--pg-explain</code> for the plan of the slowest one.",
    running: "No SQL yet. With <code>--pg DSN</code>, the statements that ran during the test appear here when the run ends.",
  },
};

function setAttachments(list) {
  state.attachments = list;
  for (const kind of ["profiles", "sql"]) $("#n-" + kind).textContent = list.filter((a) => a.kind === kind).length || "";
  renderAttachments();
}

// renderAttachments draws the active tab's sections when they changed.
// Frames are made only in a visible tab, so that flame graphs lay out at
// their real width.
function renderAttachments() {
  const kind = state.tab;
  if (kind !== "profiles" && kind !== "sql") return;
  const box = document.querySelector('.attachments[data-kind="' + kind + '"]');
  const items = state.attachments.filter((a) => a.kind === kind);
  const status = state.stats && state.stats.status === "finished" ? "finished" : "running";
  const key = status + JSON.stringify(items);
  if (state.drawn[kind] === key) return;
  state.drawn[kind] = key;
  if (!items.length) {
    box.innerHTML = '<p class="placeholder">' + PLACEHOLDERS[kind][status] + "</p>";
    return;
  }
  box.innerHTML = items.map((a) => '<div class="attachment"><h3>' + esc(a.title) + "</h3>" +
    (a.html ? '<iframe src="api/attachments/' + a.id + '" title="' + esc(a.title) + '"></iframe>' +
      (a.text ? "<details><summary>as text</summary><pre>" + esc(a.text) + "</pre></details>" : "")
      : "<pre>" + esc(a.text) + "</pre>") + "</div>").join("");
  for (const f of box.querySelectorAll("iframe")) f.addEventListener("load", () => fitFrame(f));
}

function fitFrame(f) {
  try {
    const h = f.contentDocument.documentElement.scrollHeight;
    if (h) f.style.height = Math.min(h + 8, 4000) + "px";
  } catch (e) { /* not same-origin: keep the default height */ }
}

function renderConfig() {
  const cfg = state.meta.config || {};
  const rows = Object.keys(cfg).sort().map((k) => "<tr><th>" + esc(k) + "</th><td>" + esc(cfg[k]) + "</td></tr>");
  rows.push("<tr><th>started</th><td>" + esc(new Date(state.meta.start).toLocaleString()) + "</td></tr>");
  if (state.meta.warmup) rows.push("<tr><th>warm-up</th><td>" + esc(state.meta.warmup) + " s</td></tr>");
  $("#config-table tbody").innerHTML = rows.join("");
}

// ---- charts ---------------------------------------------------------------------

let pending = false;
function renderCharts() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    if (state.tab !== "charts") return;
    const pts = state.points;
    const xs = pts.map((p) => p.t);
    const lat = (k) => pts.map((p) => p.lat ? p.lat[k] : null);
    draw("chart-rps", xs, [
      { name: "requests/s", color: COLORS[4], values: pts.map((p) => p.rps) },
      { name: "failures/s", color: COLORS[2], values: pts.map((p) => p.fps) },
    ]);
    draw("chart-lat", xs, [
      { name: "p50", color: COLORS[0], values: lat("p50") },
      { name: "p95", color: COLORS[1], values: lat("p95") },
      { name: "p99", color: COLORS[2], values: lat("p99") },
      { name: "max", color: "#9ca3af", values: lat("max"), dash: [3, 3] },
    ]);
    const scenUsers = [...new Set(pts.flatMap((p) => Object.keys(p.scen_users || {})))].sort();
    draw("chart-users", xs, [{ name: "users", color: COLORS[3], values: pts.map((p) => p.users) }].concat(scenUsers.map((n, i) => ({
      name: n, color: COLORS[i % COLORS.length], dash: [5, 3], values: pts.map((p) => p.scen_users && n in p.scen_users ? p.scen_users[n] : null),
    }))));
    const names = [...new Set(pts.flatMap((p) => Object.keys(p.scen || {})))].sort();
    draw("chart-scen", xs, names.map((n, i) => ({ name: n, color: COLORS[i % COLORS.length], values: pts.map((p) => p.scen && n in p.scen ? p.scen[n] : null) })));
  });
}

// niceStep picks a round tick step so that about n ticks cover span.
function niceStep(span, n) {
  const raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return mag * (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10);
}

function draw(id, xs, series) {
  const cv = document.getElementById(id);
  const legend = document.querySelector('.legend[data-for="' + id + '"]');
  legend.innerHTML = series.map((s) => '<span><i style="background:' + s.color + '"></i>' + esc(s.name) + "</span>").join("");
  const dpr = window.devicePixelRatio || 1;
  const w = cv.clientWidth, h = cv.clientHeight;
  if (!w || !h) return;
  cv.width = w * dpr; cv.height = h * dpr;
  const g = cv.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const L = 52, R = 20, T = 8, B = 22;
  const pw = w - L - R, ph = h - T - B;
  const x0 = xs.length ? Math.min(0, xs[0]) : 0;
  const x1 = Math.max(xs.length ? xs[xs.length - 1] : 0, x0 + 10);
  let ymax = 0;
  for (const s of series) for (const v of s.values) if (v != null && isFinite(v)) ymax = Math.max(ymax, v);
  ymax = ymax > 0 ? ymax * 1.1 : 1;
  const ystep = niceStep(ymax, 4);
  ymax = Math.ceil(ymax / ystep) * ystep;
  const X = (t) => L + (t - x0) / (x1 - x0) * pw;
  const Y = (v) => T + ph - v / ymax * ph;
  // warm-up band and stage boundaries
  const meta = state.meta || {};
  if (meta.warmup > 0) {
    g.fillStyle = "rgba(234, 140, 0, 0.10)";
    g.fillRect(X(x0), T, X(Math.min(meta.warmup, x1)) - X(x0), ph);
    g.fillStyle = "#b26b00"; g.font = "11px system-ui, sans-serif";
    g.fillText("warm-up", X(x0) + 4, T + 12);
  }
  g.strokeStyle = "#9ca3af"; g.setLineDash([4, 4]); g.lineWidth = 1;
  let marks = 0;
  for (const st of meta.stages || []) {
    if (st <= x0 || st >= x1) continue;
    g.beginPath(); g.moveTo(X(st), T); g.lineTo(X(st), T + ph); g.stroke();
    marks++;
  }
  cv.dataset.stages = marks;
  cv.dataset.warmup = meta.warmup > 0 ? "1" : "0";
  g.setLineDash([]);
  // grid and axes
  g.font = "11px system-ui, sans-serif"; g.fillStyle = "#6b7482"; g.strokeStyle = "#eceef2";
  g.textAlign = "right"; g.textBaseline = "middle";
  for (let v = 0; v <= ymax + ystep / 2; v += ystep) {
    g.beginPath(); g.moveTo(L, Y(v)); g.lineTo(L + pw, Y(v)); g.stroke();
    g.fillText(fmt(v, v < 10 ? 1 : 0), L - 6, Y(v));
  }
  g.textAlign = "center"; g.textBaseline = "top";
  const xstep = Math.max(1, niceStep(x1 - x0, 6));
  for (let t = Math.ceil(x0 / xstep) * xstep; t <= x1; t += xstep) g.fillText(clock(t), X(t), T + ph + 5);
  g.strokeStyle = "#c7ccd4"; g.beginPath(); g.moveTo(L, T); g.lineTo(L, T + ph); g.lineTo(L + pw, T + ph); g.stroke();
  // lines
  let drawn = 0;
  for (const s of series) {
    g.strokeStyle = s.color; g.lineWidth = 1.8; g.setLineDash(s.dash || []);
    g.beginPath();
    let open = false;
    s.values.forEach((v, i) => {
      if (v == null || !isFinite(v)) { open = false; return; }
      if (open) g.lineTo(X(xs[i]), Y(v)); else { g.moveTo(X(xs[i]), Y(v)); open = true; }
      drawn++;
    });
    g.stroke();
    if (s.values.length === 1 && s.values[0] != null) { g.fillStyle = s.color; g.fillRect(X(xs[0]) - 2, Y(s.values[0]) - 2, 4, 4); }
  }
  g.setLineDash([]);
  if (!series.length || !xs.length) {
    g.fillStyle = "#9ca3af"; g.textAlign = "center"; g.textBaseline = "middle";
    g.fillText("waiting for data…", L + pw / 2, T + ph / 2);
  }
  cv.dataset.points = xs.length;
  cv.dataset.values = drawn;
}

window.addEventListener("resize", renderCharts);
connect();
