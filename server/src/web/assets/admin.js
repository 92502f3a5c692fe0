// hark dashboard, administration: publishing the area's forms from an
// XLSForm, the area's reporting lists and the data problems found in merged
// responses. Loaded after app.js (uses $, api,
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

function el(tag, text) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
}

function headRow(names) {
  const tr = el("tr");
  for (const h of names) {
    const th = el("th", h);
    th.scope = "col";
    tr.appendChild(th);
  }
  return tr;
}

async function loadFormVersions() {
  const forms = await api("/api/v1/forms");
  $("form-versions").replaceChildren(headRow(["form", "title", "versions (download to edit)", ""]), ...forms.map((f) => {
    const tr = el("tr");
    tr.append(el("td", f.id), el("td", f.retired ? f.title + " (retired: not offered for new responses)" : f.title));
    const td = el("td");
    f.versions.forEach((v, i) => {
      const a = el("a", v);
      a.href = "/api/v1/forms/" + encodeURIComponent(f.id) + "/xlsx?version=" + encodeURIComponent(v);
      a.setAttribute("download", f.id + "-" + v + ".xlsx");
      a.setAttribute("aria-label", "Download " + f.id + " version " + v + " as .xlsx");
      if (i > 0) td.append(", ");
      td.append(a);
    });
    tr.appendChild(td);
    const action = el("td");
    if (!f.retired) {
      const b = el("button", "Retire");
      b.type = "button";
      b.setAttribute("aria-label", "Retire " + f.id);
      b.addEventListener("click", () => retireForm(f.id).catch((e) => say(e.message)));
      action.appendChild(b);
    }
    tr.appendChild(action);
    return tr;
  }));
}

// Retires a form after the administrator confirms: tablets stop offering
// it at their next sync; what was begun on it still counts.
async function retireForm(id) {
  if (!window.confirm("Retire " + id + "? Tablets stop offering it for new responses at their next sync; responses already begun on it are still accepted and counted. Publishing a newer version offers it again.")) return;
  const r = await api("/api/v1/forms/" + encodeURIComponent(id) + "/retire", { method: "POST" });
  await loadFormVersions();
  await loadLinkForms();
  say(r.retired.length ? "Retired " + id + "." : id + " was retired already.");
}

// Uploads the chosen XLSForm: a check (dry run) or the publication.
// Returns the server's answer, or shows every problem by cell.
async function sendForm(dryRun) {
  const file = $("xlsform-file").files[0];
  if (!file) return null;
  const res = await fetch("/api/v1/forms" + (dryRun ? "?dry_run=true" : ""), {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": file.type || "application/octet-stream" },
    body: file,
  });
  let body = null;
  try { body = await res.json(); } catch (_) { /* not JSON */ }
  if (res.ok) return body;
  const error = body && body.error ? body.error : { message: res.statusText };
  showProblems(error);
  return null;
}

function showProblems(error) {
  const out = $("publish-result");
  const parts = [el("p", error.message)];
  parts[0].className = "error";
  if (error.problems && error.problems.length) {
    const table = el("table");
    table.id = "form-problems";
    table.appendChild(headRow(["sheet", "cell", "column", "problem"]));
    for (const p of error.problems) {
      const tr = el("tr");
      tr.append(el("td", p.sheet || "(file)"), el("td", p.cell || (p.row ? "row " + p.row : "")), el("td", p.column || ""), el("td", p.message));
      table.appendChild(tr);
    }
    const wrap = el("div");
    wrap.className = "table-wrap";
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", "Problems in the form");
    wrap.appendChild(table);
    parts.push(wrap);
  }
  for (const w of error.warnings || []) parts.push(el("p", "Warning: " + (w.cell ? w.sheet + " " + w.cell + ": " : "") + w.message));
  out.replaceChildren(...parts);
  $("publish-button").disabled = true;
}

function showPublished(r) {
  const lines = [r.form + " version " + r.version + ": \u201c" + r.title + "\u201d \u2014 " + r.questions + " question(s), " + r.triggers + " safeguarding trigger(s), languages " + r.languages.join(", ") + "."];
  if (r.previous && r.changes) {
    const c = r.changes;
    lines.push("Since version " + r.previous + ":");
    const list = (what, ids) => { if (ids.length) lines.push("\u2022 " + what + ": " + ids.join(", ")); };
    list("added", c.added);
    list("removed", c.removed);
    list("changed shape (reports list them apart from older versions)", c.reshaped);
    list("reworded", c.reworded);
    list("languages added", c.languages_added);
    list("languages removed", c.languages_removed);
    if (c.triggers_changed) lines.push("\u2022 safeguarding triggers changed");
    if (c.reordered) lines.push("\u2022 questions reordered");
    if (c.about_changed) lines.push("\u2022 title, introduction, audience or theme changed");
  }
  for (const w of r.warnings) lines.push("Warning: " + w);
  lines.push({
    checked: "Checked: no problems. Nothing is published until you press Publish.",
    published: "Published: tablets receive it at their next sync.",
    already_published: "This area has this exact version already; nothing changed.",
  }[r.outcome]);
  $("publish-result").replaceChildren(...lines.map((l) => el("p", l)));
}

async function loadLinks() {
  const links = await api("/api/v1/links");
  const now = Date.now();
  $("links").replaceChildren(headRow(["link", "form", "answers", "last day", "state", ""]), ...links.map((l) => {
    const tr = el("tr");
    const open = !l.revoked && (l.closes_at === null || now < l.closes_at) && (l.cap === null || l.used < l.cap);
    const lastDay = l.closes_at === null ? "none" : new Date(l.closes_at - 1).toISOString().slice(0, 10);
    tr.append(
      el("td", l.id + (l.single_use ? " (single use)" : "")),
      el("td", l.form_id),
      el("td", l.used + (l.cap === null ? "" : " of " + l.cap)),
      el("td", lastDay),
      el("td", l.revoked ? "revoked" : open ? "open" : "closed"),
    );
    const action = el("td");
    if (!l.revoked) {
      const b = el("button", "Revoke");
      b.type = "button";
      b.setAttribute("aria-label", "Revoke link " + l.id);
      b.addEventListener("click", async () => {
        try {
          await api("/api/v1/links/" + encodeURIComponent(l.id) + "/revoke", { method: "POST" });
          await loadLinks();
          say("Link " + l.id + " revoked: it takes no more answers.");
        } catch (e) { say(e.message); }
      });
      action.appendChild(b);
    }
    tr.appendChild(action);
    return tr;
  }));
}

async function loadLinkForms() {
  const forms = await api("/api/v1/forms");
  $("link-form-id").replaceChildren(...forms.filter((f) => !f.retired).map((f) => {
    const o = el("option", f.title + " (" + f.id + ")");
    o.value = f.id;
    return o;
  }));
}

async function makeLinks() {
  const body = { form: $("link-form-id").value };
  if ($("link-single").value) body.single_use = Number($("link-single").value);
  if ($("link-closes").value) body.closes = $("link-closes").value;
  if ($("link-cap").value) body.cap = Number($("link-cap").value);
  const made = await postJson("/api/v1/links", body);
  const list = el("ul");
  list.id = "made-links";
  for (const m of made) {
    const li = el("li");
    const code = el("code", window.location.origin + m.path);
    li.append(code);
    list.appendChild(li);
  }
  $("links-made").replaceChildren(el("p", made.length === 1 ? "Your link (copy it now: it is shown only this once):" : "Your " + made.length + " single-use links (copy them now: they are shown only this once):"), list);
  await loadLinks();
}

async function loadAdministration() {
  await loadFormVersions();
  await loadLinkForms();
  await loadLinks();
  await loadLists();
  await loadProblems();
}

document.addEventListener("hark:signed-in", (ev) => {
  if (ev.detail.role === "administrator") loadAdministration().catch((e) => say(e.message));
});

document.addEventListener("DOMContentLoaded", () => {
  $("xlsform-file").addEventListener("change", () => {
    $("publish-button").disabled = true;
    $("publish-result").replaceChildren();
  });
  $("publish-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await sendForm(true);
      if (!r) return;
      showPublished(r);
      $("publish-button").disabled = r.outcome !== "checked";
    } catch (e) { say(e.message); }
  });
  $("publish-button").addEventListener("click", async () => {
    try {
      const r = await sendForm(false);
      if (!r) return;
      showPublished(r);
      $("publish-button").disabled = true;
      await loadFormVersions();
      say(r.outcome === "published" ? "Form published." : "Nothing changed.");
    } catch (e) { say(e.message); }
  });
  $("link-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    makeLinks().catch((e) => say(e.message));
  });
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
