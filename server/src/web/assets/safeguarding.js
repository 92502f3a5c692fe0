// hark dashboard, the safeguarding lead's list: flagged responses one by
// one, with the answers that raised each flag and its follow-up. Shown only
// to the safeguarding role (the server refuses everyone else). Loaded after
// app.js (uses $, api, say).
"use strict";

const LEVEL = { urgent: "Urgent", concern: "Concern" };
const STATUS = { new: "new", seen: "seen", followed_up: "followed up" };

function cell(tr, text) {
  const td = document.createElement("td");
  td.textContent = text;
  tr.appendChild(td);
  return td;
}

async function setFlagStatus(id, status, note) {
  await api("/api/v1/safeguarding/" + id, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ status, note }),
  });
  say(status === "seen" ? "Marked as seen." : "Follow-up recorded.");
  await loadSafeguarding();
}

function flagRow(f) {
  const tr = document.createElement("tr");
  tr.className = "flag-" + f.level + " status-" + f.status;
  cell(tr, new Date(f.raised_at).toLocaleString());
  cell(tr, f.form_title);
  cell(tr, LEVEL[f.level] || f.level);
  const what = cell(tr, "");
  for (const a of f.answers) {
    const p = document.createElement("p");
    const q = document.createElement("strong");
    q.textContent = a.text + ": ";
    p.append(q, a.answer);
    what.appendChild(p);
  }
  const guidance = document.createElement("p");
  guidance.className = "note";
  guidance.textContent = f.guidance;
  what.appendChild(guidance);
  cell(tr, [f.setting, f.occasion].filter((x) => x).join(", ").replaceAll("_", " "));
  cell(tr, f.practitioner || "kiosk (anonymous)");
  const status = cell(tr, STATUS[f.status] || f.status);
  if (f.status_by) {
    const by = document.createElement("p");
    by.className = "note";
    by.textContent = "by " + f.status_by + " " + new Date(f.status_at).toLocaleString() + (f.note ? ": " + f.note : "");
    status.appendChild(by);
  }
  const actions = cell(tr, "");
  if (f.status === "new") {
    const seen = document.createElement("button");
    seen.type = "button";
    seen.textContent = "Mark seen";
    seen.setAttribute("aria-label", "Mark flag " + f.id + " as seen");
    seen.addEventListener("click", () => setFlagStatus(f.id, "seen").catch((e) => say(e.message)));
    actions.appendChild(seen);
  }
  if (f.status !== "followed_up") {
    const form = document.createElement("form");
    const label = document.createElement("label");
    label.htmlFor = "follow-up-" + f.id;
    label.textContent = "What was done";
    const note = document.createElement("textarea");
    note.id = "follow-up-" + f.id;
    note.required = true;
    note.maxLength = 4000;
    const done = document.createElement("button");
    done.type = "submit";
    done.textContent = "Record follow-up";
    form.append(label, note, done);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      setFlagStatus(f.id, "followed_up", note.value).catch((e) => say(e.message));
    });
    actions.appendChild(form);
  }
  return tr;
}

async function loadSafeguarding() {
  const waiting = await api("/api/v1/safeguarding/count");
  const badge = $("flags-new");
  badge.textContent = waiting.new === 0 ? "no new flags" : waiting.new === 1 ? "1 new flag" : waiting.new + " new flags";
  badge.classList.toggle("quiet", waiting.new === 0);
  const flags = await api("/api/v1/safeguarding");
  const head = document.createElement("tr");
  for (const h of ["raised", "form", "level", "what was said", "where", "practitioner", "status", "follow-up"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.appendChild(th);
  }
  $("flags").replaceChildren(head, ...flags.map(flagRow));
  $("flags-none").hidden = flags.length > 0;
}

document.addEventListener("hark:signed-in", (ev) => {
  const lead = ev.detail.role === "safeguarding";
  $("safeguarding").hidden = !lead;
  if (lead) loadSafeguarding().catch((e) => say(e.message));
});
