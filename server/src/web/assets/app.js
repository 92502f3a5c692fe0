// hark dashboard: plain JavaScript, no framework, nothing fetched from
// outside the server. Everything shown comes from the suppressed reports.
"use strict";

const $ = (id) => document.getElementById(id);
const COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"];
const DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "4 4", "10 2", "3 6"];
let me = null;
let forms = [];
let lastReport = null;

function say(text) { $("status").textContent = text || ""; }

async function api(path, options) {
  const res = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
  if (res.status === 401 && path !== "/api/v1/session") { showSignIn(); throw new Error("Please sign in."); }
  if (!res.ok) {
    let message = res.statusText;
    try { message = (await res.json()).error.message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  if (res.status === 204) return null;
  return res.json();
}

function postJson(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

function showSignIn() {
  me = null;
  $("sign-in-section").hidden = false;
  $("main").hidden = true;
  $("who").hidden = true;
  $("username").focus();
}

async function start() {
  try {
    me = await api("/api/v1/me");
  } catch (_) {
    showSignIn();
    return;
  }
  await showDashboard();
}

async function showDashboard() {
  $("sign-in-section").hidden = true;
  $("main").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = me.username + " (" + me.role + ")";
  $("who-area").textContent = me.area;
  $("admin").hidden = me.role !== "administrator";
  forms = await api("/api/v1/forms");
  const formSelect = $("form");
  formSelect.replaceChildren(...forms.map((f) => new Option(f.title + " — " + f.audience.replaceAll("_", " "), f.id)));
  await formChanged();
  await loadNotes();
  if (me.role === "administrator") await loadAudit();
  // The role-specific sections (admin.js, safeguarding.js) load themselves.
  document.dispatchEvent(new CustomEvent("hark:signed-in", { detail: me }));
}

async function formChanged() {
  const form = forms.find((f) => f.id === $("form").value);
  if (!form) return;
  const reportable = form.questions.filter((q) => q.kind !== "free_text" && q.kind !== "date");
  $("question").replaceChildren(...reportable.map((q) => new Option(q.text, q.id)));
  const dims = await api("/api/v1/dimensions?form=" + encodeURIComponent(form.id));
  for (const select of document.querySelectorAll("select[data-dim]")) {
    const values = dims[select.dataset.dim] || [];
    const named = values.filter((v) => v !== "");
    select.replaceChildren(new Option("all", ""), ...named.map((v) => new Option(v.replaceAll("_", " "), v)));
    select.disabled = values.length === 0;
  }
  await refresh();
}

function params() {
  const p = new URLSearchParams();
  const f = $("report-form");
  p.set("form", f.form.value);
  p.set("question", f.question.value);
  p.set("period", f.period.value);
  if (f.split.value) p.set("split", f.split.value);
  for (const select of document.querySelectorAll("select[data-dim]")) {
    if (select.value !== "") p.set(select.dataset.dim, select.value);
  }
  if (f.from.value) p.set("from", f.from.value);
  if (f.to.value) p.set("to", f.to.value);
  return p;
}

async function refresh() {
  const p = params();
  if (!p.get("question")) return;
  $("export-csv").href = "/api/v1/reports.csv?" + p.toString();
  try {
    lastReport = await api("/api/v1/reports?" + p.toString());
    say("");
  } catch (e) {
    say(e.message);
    return;
  }
  fillPlotChoices(lastReport);
  draw();
}

let plotFor = "";

function fillPlotChoices(r) {
  const select = $("plot");
  // Keep the reader's choice while they stay on one question.
  const keep = plotFor === r.form + "/" + r.question ? select.value : "";
  plotFor = r.form + "/" + r.question;
  const choices = [];
  const measures = r.groups[0] ? r.groups[0].cells[0] ? r.groups[0].cells[0].measures : [] : [];
  for (const m of measures) choices.push(new Option(m.label, "m:" + m.id));
  r.options.forEach((o, i) => choices.push(new Option("% " + o.label, "o:" + i)));
  choices.push(new Option("number who answered", "answered"));
  select.replaceChildren(...choices);
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

function valueOf(cell, choice) {
  if (choice === "answered") return cell.answered.n;
  if (choice.startsWith("m:")) {
    const m = cell.measures.find((x) => x.id === choice.slice(2));
    return m ? m.value : null;
  }
  const c = cell.options[Number(choice.slice(2))];
  return c && c.share !== null && c.share !== undefined ? Math.round(c.share * 1000) / 10 : null;
}

function svg(tag, attrs, text) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

/** "March 2026" from "2026-03" (or "2026-03-08" with the day). */
function monthText(m, withDay) {
  const [y, mo, d] = m.split("-").map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d || 1));
  const opts = withDay ? { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" } : { month: "long", year: "numeric", timeZone: "UTC" };
  return date.toLocaleDateString("en-GB", opts);
}

function publishedNote(r) {
  if (!r.next_publication) return "";
  const through = r.published_through ? "Figures up to the end of " + monthText(r.published_through) + ". " : "";
  const [y, m] = r.next_publication.split("-").map(Number);
  const next = monthText(new Date(Date.UTC(y, m - 2, 1)).toISOString().slice(0, 7));
  return through + next + "'s figures are published on " + monthText(r.next_publication, true) + "; a month's figures never change once published.";
}

function draw() {
  const r = lastReport;
  if (!r) return;
  const choice = $("plot").value || "answered";
  const chart = $("chart");
  const periods = r.periods.slice(0, -1);
  const groups = r.split ? r.groups.filter((g) => g.key !== "*") : r.groups;
  const series = groups.map((g) => ({ label: g.label, values: g.cells.slice(0, -1).map((c) => valueOf(c, choice)) }));
  const all = series.flatMap((s) => s.values).filter((v) => v !== null);
  const isPercent = choice !== "answered" && !(choice === "m:mean");
  const max = isPercent ? 100 : Math.max(1, ...all);
  const W = 760, H = 320, L = 48, R = 170, T = 16, B = 40;
  const x = (i) => L + (periods.length <= 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (periods.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const kids = [];
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    kids.push(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#d0d0d0" }));
    kids.push(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, String(Math.round(v * 10) / 10)));
  }
  const step = Math.max(1, Math.ceil(periods.length / 12));
  periods.forEach((p, i) => {
    if (i % step === 0) kids.push(svg("text", { x: x(i), y: H - B + 18, "text-anchor": "middle" }, p));
  });
  series.forEach((s, si) => {
    const colour = COLOURS[si % COLOURS.length];
    let d = "";
    s.values.forEach((v, i) => {
      if (v === null) { return; }
      const prev = i > 0 ? s.values[i - 1] : null;
      d += (prev === null ? "M" : "L") + x(i).toFixed(1) + " " + y(v).toFixed(1) + " ";
      kids.push(svg("circle", { cx: x(i), cy: y(v), r: 3.5, fill: colour }));
    });
    kids.push(svg("path", { d: d.trim(), fill: "none", stroke: colour, "stroke-width": 2.5, "stroke-dasharray": DASHES[si % DASHES.length], "data-series": s.label }));
    kids.push(svg("line", { x1: W - R + 12, x2: W - R + 36, y1: T + 14 + si * 20, y2: T + 14 + si * 20, stroke: colour, "stroke-width": 3, "stroke-dasharray": DASHES[si % DASHES.length] }));
    kids.push(svg("text", { x: W - R + 42, y: T + 18 + si * 20 }, s.label));
  });
  chart.replaceChildren(...kids);
  const what = $("plot").selectedOptions[0] ? $("plot").selectedOptions[0].textContent : "";
  $("chart-title").textContent = r.question_text + " — " + what + (r.split ? " by " + r.split.replaceAll("_", " ") : "");
  const hidden = series.reduce((n, s) => n + s.values.filter((v) => v === null).length, 0);
  $("chart-desc").textContent = series.map((s) => s.label + ": " + s.values.map((v, i) => periods[i] + " " + (v === null ? "hidden" : v)).join(", ")).join("; ") +
    (hidden ? ". Gaps are hidden numbers: fewer than 10 people answered in that group, or a number is hidden so that no small group can be worked out (see \"Why some numbers are missing\")." : ".");
  $("versions").textContent = "Form versions included: " + r.versions.join(", ") +
    (r.excluded_versions.length ? ". Left out: " + r.excluded_versions.map((e) => e.version + " (" + e.reason + ")").join("; ") : ".");
  $("published").textContent = publishedNote(r);
  drawTable(r);
}

function cellText(c) {
  if (c.n === null || c.n === undefined) return c.hidden || "hidden";
  return c.share !== null && c.share !== undefined ? c.n + " (" + Math.round(c.share * 100) + "%)" : String(c.n);
}

function drawTable(r) {
  const table = $("table");
  const head = document.createElement("tr");
  for (const h of ["group", "period", "answered", ...r.options.map((o) => o.label)]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.appendChild(th);
  }
  const rows = [head];
  for (const g of r.groups) {
    for (const c of g.cells) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = g.label;
      tr.appendChild(th);
      const cells = [c.period, cellText(c.answered), ...c.options.map(cellText)];
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.textContent = text;
        const source = i === 1 ? c.answered : c.options[i - 2];
        if (i > 0 && source && (source.n === null || source.n === undefined)) td.className = "hidden";
        tr.appendChild(td);
      });
      rows.push(tr);
    }
  }
  table.replaceChildren(...rows);
}

async function loadNotes() {
  const notes = await api("/api/v1/notes");
  $("notes").replaceChildren(...notes.map((n) => {
    const li = document.createElement("li");
    const strong = document.createElement("strong");
    strong.textContent = n.theme.replaceAll("_", " ") + ": ";
    li.append(strong, "You said: " + n.you_said + " — We did: " + n.we_did + " (" + n.author + ")");
    return li;
  }));
}

async function loadAudit() {
  const entries = await api("/api/v1/audit?limit=50");
  const head = document.createElement("tr");
  for (const h of ["when", "who", "what", "detail"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.appendChild(th);
  }
  $("audit").replaceChildren(head, ...entries.map((e) => {
    const tr = document.createElement("tr");
    for (const v of [new Date(e.at).toLocaleString(), e.actor, e.action, e.detail]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    return tr;
  }));
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      me = await postJson("/api/v1/session", { username: $("username").value, password: $("password").value });
      $("password").value = "";
      say("Signed in.");
      await showDashboard();
    } catch (e) {
      say(e.message);
    }
  });
  $("sign-out").addEventListener("click", async () => {
    await api("/api/v1/session", { method: "DELETE" }).catch(() => null);
    say("Signed out.");
    showSignIn();
  });
  $("form").addEventListener("change", () => formChanged().catch((e) => say(e.message)));
  $("report-form").addEventListener("change", (ev) => {
    if (ev.target.id === "form") return;
    if (ev.target.id === "plot") { draw(); return; }
    refresh();
  });
  $("report-form").addEventListener("submit", (ev) => ev.preventDefault());
  $("note-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      await postJson("/api/v1/notes", { theme: f.theme.value, you_said: f.you_said.value, we_did: f.we_did.value });
      f.reset();
      say("Note published: tablets show it at their next sync.");
      await loadNotes();
    } catch (e) { say(e.message); }
  });
  $("user-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      const u = await postJson("/api/v1/users", { username: f.username.value, password: f.password.value, role: f.role.value, free_text: f.free_text.checked });
      f.reset();
      say("Added " + u.username + ".");
      await loadAudit();
    } catch (e) { say(e.message); }
  });
  start();
});
