// An administrator publishes the area's own form in headless Chromium:
// download a form to edit, upload a broken XLSForm and read every problem
// by cell, check the edited one, read what changed, publish it, see the new
// version listed, retire another form. Started by
// `forms::an_administrator_publishes_a_form_in_a_browser` (HARK_URL,
// HARK_USER, HARK_PASSWORD, HARK_CHROMIUM, HARK_SHOTS, HARK_BAD_XLSX,
// HARK_GOOD_XLSX, HARK_NEW_VERSION).
"use strict";
const fs = require("fs");
const { env, check, launch } = require("./harness.cjs");

(async () => {
  const url = env("HARK_URL");
  const shots = env("HARK_SHOTS");
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 1400 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(url + "/");
    await page.fill("#username", env("HARK_USER"));
    await page.fill("#password", env("HARK_PASSWORD"));
    await page.click("#sign-in button");
    await page.waitForSelector("#admin:not([hidden])");
    await page.waitForSelector("#form-versions a");
    check((await page.textContent("#form-versions")).includes("local-offer"), "the area's forms are listed with their versions");

    // Download a version to start from: a real .xlsx (a zip file).
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("#form-versions a[aria-label^='Download local-offer']"),
    ]);
    const saved = await download.path();
    const head = fs.readFileSync(saved).subarray(0, 2).toString("latin1");
    check(head === "PK", "the download is an .xlsx file (" + download.suggestedFilename() + ")");

    // A broken form: every problem, by cell; nothing to publish.
    await page.setInputFiles("#xlsform-file", env("HARK_BAD_XLSX"));
    await page.click("#publish-form button[type=submit]");
    await page.waitForSelector("#form-problems");
    const problems = await page.textContent("#form-problems");
    check(problems.includes("A2") && problems.includes("begin repeat"), "the repeat is named at its cell");
    check(problems.includes("C3") && problems.includes("cannot read"), "the unreadable relevant is named at its cell");
    check(await page.isDisabled("#publish-button"), "a form with problems cannot be published");
    await page.locator("#admin").screenshot({ path: shots + "/forms-1-problems.png" });

    // The edited form: checked, with what changed, then published.
    await page.setInputFiles("#xlsform-file", env("HARK_GOOD_XLSX"));
    await page.click("#publish-form button[type=submit]");
    await page.waitForFunction(() => document.getElementById("publish-result").textContent.includes("Checked"));
    const result = await page.textContent("#publish-result");
    check(result.includes("reworded"), "the check lists the reworded question");
    check(result.includes("changed shape"), "and the question that reports will list apart");
    check(result.includes("Warning"), "with a warning that the version number says too little");
    check(!(await page.textContent("#form-versions")).includes(env("HARK_NEW_VERSION")), "checking publishes nothing");
    await page.locator("#admin").screenshot({ path: shots + "/forms-2-checked.png" });
    check(await page.isEnabled("#publish-button"), "a checked form can be published");
    await page.click("#publish-button");
    await page.waitForFunction(() => document.getElementById("publish-result").textContent.includes("Published"));
    await page.waitForFunction((v) => document.getElementById("form-versions").textContent.includes(v), env("HARK_NEW_VERSION"));
    check(true, "the new version is listed after publishing");
    check(await page.isDisabled("#publish-button"), "and cannot be published twice by accident");
    await page.locator("#admin").screenshot({ path: shots + "/forms-3-published.png" });

    // Retiring asks first, then marks the form retired.
    let asked = "";
    page.once("dialog", (d) => { asked = d.message(); d.accept(); });
    await page.click("#form-versions button[aria-label='Retire being-heard']");
    await page.waitForFunction(() => /being-heard.*retired/.test(document.getElementById("form-versions").textContent));
    check(asked.includes("still accepted and counted"), "retiring says what it does before it does it");
    check((await page.locator("#form-versions button[aria-label='Retire being-heard']").count()) === 0, "a retired form has no Retire button");
    check(errors.filter((e) => !e.includes("401 (Unauthorized)") && !e.includes("422")).length === 0, "no script errors (" + errors.join("; ") + ")");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
