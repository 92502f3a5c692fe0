// Drives the dashboard in headless Chromium (Debian's), as a leader would:
// sign in, pick a form, change the split and a filter, see the chart change,
// read "not enough responses", publish a note. Saves screenshots. Started by the
// Rust test `dashboard::a_leader_uses_the_dashboard_in_a_browser`, which
// passes HARK_URL, HARK_USER, HARK_PASSWORD, HARK_CHROMIUM, HARK_SHOTS.
"use strict";
const { env, check, launch } = require("./harness.cjs");

async function chartOf(page) {
  return page.locator("#chart").innerHTML();
}

async function waitForChartChange(page, before, what) {
  await page.waitForFunction((b) => document.getElementById("chart").innerHTML !== b, before, { timeout: 10000 })
    .catch(async () => {
      throw new Error("FAILED: the chart did not change after " + what + " (status: " +
        await page.textContent("#status") + "; chart: " + await page.textContent("#chart-desc") + ")");
    });
  console.log("ok - the chart changed after " + what);
}

(async () => {
  const url = env("HARK_URL");
  const shots = env("HARK_SHOTS");
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    const outside = [];
    page.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

    await page.goto(url + "/");
    await page.waitForSelector("#sign-in-section:not([hidden])");
    // Every control has an accessible name.
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll("input, select, textarea, button")]
        .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !(el.tagName === "BUTTON" && el.textContent.trim()))
        .map((el) => el.id || el.name || el.tagName));
    check(unlabelled.length === 0, "every control has a label (" + unlabelled.join(", ") + ")");

    // A wrong password is refused with a message.
    await page.fill("#username", env("HARK_USER"));
    await page.fill("#password", "not the password");
    await page.click("#sign-in button");
    await page.waitForFunction(() => document.getElementById("status").textContent.includes("wrong"));
    check(await page.isHidden("#main"), "a wrong password does not sign in");

    // Sign in with the keyboard only.
    await page.fill("#password", env("HARK_PASSWORD"));
    await page.focus("#password");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#main:not([hidden])");
    check((await page.textContent("#who-area")) === "hartlepool", "signed in to the right area");
    await page.screenshot({ path: shots + "/1-signed-in.png", fullPage: true });

    // Pick the satisfaction form: the Friends and Family Test question.
    await page.selectOption("#form", "service-satisfaction");
    await page.waitForFunction(() => document.getElementById("question").value === "fft");
    await page.waitForFunction(() => document.getElementById("plot").value === "m:fft_positive", null, { timeout: 10000 })
      .catch(() => { throw new Error("FAILED: FFT % positive is not plotted by default"); });
    check(true, "FFT % positive is plotted by default");
    check((await page.textContent("#chart-title")).includes("% positive"), "the chart says what it shows");
    let before = await chartOf(page);

    // Split by setting: one line per setting, the small school hidden.
    await page.selectOption("#split", "setting");
    await waitForChartChange(page, before, "splitting by setting");
    const legend = await page.locator("#chart text").allTextContents();
    check(legend.includes("clinic") && legend.includes("home"), "a line per setting");
    const table = await page.textContent("#table");
    check(table.includes("not enough responses"), "a small group's breakdown reads 'not enough responses'");
    const rows = (label) => page.evaluate((label) => [...document.querySelectorAll("#table tr")]
      .filter((tr) => tr.querySelector("th") && tr.querySelector("th").textContent === label)
      .map((tr) => [...tr.querySelectorAll("td")].slice(1).map((td) => td.textContent)), label);
    // The special school's three families have no row (a row would say that someone there answered).
    check((await rows("special school")).length === 0 && !legend.includes("special school"),
      "the special school, with 3 families, has no row of its own");
    // (A month nobody there answered in shows its zeros: nobody to protect.)
    const base = await rows("resource base");
    check(base.length > 0 && base.every(([answered, ...cells]) => answered === "0" ||
        cells.every((c) => c === "not enough responses" || c === "hidden")),
      "the resource base's 7 have a row, with no zeros beside their count: " + JSON.stringify(base));
    await page.click("#disclosure-help summary");
    const help = await page.textContent("#disclosure-help");
    check(help.includes("at least 10 people") && help.includes("1 to 4"), "the help says the rules");
    check(help.includes("never change") && help.includes("counted in the month it arrived"), "the help says how figures change with time");
    const published = await page.textContent("#published");
    check(/^Figures up to the end of \w+ \d{4}\. \w+ \d{4}'s figures are published on \d+ \w+ \d{4}/.test(published),
      "the page says which months are published and when the next is: " + published);
    check(help.includes("5 people with it"), "the help says when a setting gets a row");
    await page.screenshot({ path: shots + "/2-split-by-setting.png", fullPage: true });

    // Filter to one age phase: the chart changes again.
    before = await chartOf(page);
    await page.selectOption("#f-age_phase", "primary");
    await waitForChartChange(page, before, "filtering to primary");
    check((await page.getAttribute("#export-csv", "href")).includes("age_phase=primary"), "the CSV link exports what is shown");
    await page.screenshot({ path: shots + "/3-primary-only.png", fullPage: true });

    // By quarter.
    before = await chartOf(page);
    await page.check("input[name=period][value=quarter]");
    await waitForChartChange(page, before, "switching to quarters");
    check((await page.textContent("#chart-desc")).includes("Q1"), "quarters are described for screen readers");

    // The CSV download works and is suppressed too.
    const csv = await page.evaluate(async () => (await fetch(document.getElementById("export-csv").href)).text());
    check(csv.startsWith("form,question,split,group,period,option"), "the CSV export downloads");

    // "You said, we did".
    await page.selectOption("#note-theme", "diagnosis");
    await page.fill("#you-said", "You told us the wait was too long");
    await page.fill("#we-did", "We have added two clinics");
    await page.click("#note-form button");
    await page.waitForFunction(() => document.getElementById("notes").textContent.includes("two clinics"));
    check(true, "the note is published");
    await page.screenshot({ path: shots + "/4-note.png", fullPage: true });

    // Sign out.
    await page.click("#sign-out");
    await page.waitForSelector("#sign-in-section:not([hidden])");
    check(true, "signed out");

    check(outside.length === 0, "nothing is fetched from outside the server (" + outside.join(", ") + ")");
    check(errors.filter((e) => !e.includes("401 (Unauthorized)")).length === 0, "no script errors (" + errors.join("; ") + ")");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
