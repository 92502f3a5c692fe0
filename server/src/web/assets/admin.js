// hark dashboard, administration: the area's reporting lists and the data
// problems found in merged responses. Loaded after app.js (uses $, api,
// say) and only shown to administrators.
"use strict";

let areaLists = null;

function listText(items) {
  return items.map((i) => i.id + " = " + i.label).join("\n");
}

function showList() {
  const key = { setting: "settings", age_phase: "age_phases", need: "needs", pathway: "pathways" }[$("list-dim").value];
  $("list-items").value = listText(areaLists[key]);
  $("list-version").textContent = "Lists version " + areaLists.version + ". Tablets fetch a new version at their next sync; a value recorded that is not on its list is counted as \u201cother\u201d.";
}

async function loadLists() {
  areaLists = await api("/api/v1/lists");
  showList();
}

async function loadProblems() {
  const problems = await api("/api/v1/problems");
  const head = document.createElement("tr");
  for (const h of ["form", "version", "question or list", "problem", "responses"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.appendChild(th);
  }
  const what = {
    not_asked: "answered, but skip logic does not ask it (not counted)",
    missing_required: "submitted without this required answer",
    no_consent: "consent or assent not recorded (stored, not counted)",
    not_on_list: "value not on the list (counted as other)",
  };
  $("problems").replaceChildren(head, ...problems.map((p) => {
    const tr = document.createElement("tr");
    for (const v of [p.form, p.version, p.subject || "", what[p.kind] || p.kind, String(p.responses)]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    return tr;
  }));
  $("problems-none").hidden = problems.length > 0;
}

async function loadAdministration() {
  await loadLists();
  await loadProblems();
}

document.addEventListener("hark:signed-in", (ev) => {
  if (ev.detail.role === "administrator") loadAdministration().catch((e) => say(e.message));
});

document.addEventListener("DOMContentLoaded", () => {
  $("list-dim").addEventListener("change", showList);
  $("list-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const items = $("list-items").value.split("\n").map((l) => l.trim()).filter((l) => l).map((l) => {
      const at = l.indexOf("=");
      return at < 0 ? { id: l, label: l } : { id: l.slice(0, at).trim(), label: l.slice(at + 1).trim() };
    });
    try {
      areaLists = await api("/api/v1/lists/" + $("list-dim").value, {
        method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(items),
      });
      showList();
      say("List saved: tablets receive it at their next sync.");
    } catch (e) { say(e.message); }
  });
});
