// The safeguarding lead's list in headless Chromium: sign in, see the new
// flag counted, read the answers that raised it, mark it seen, record the
// follow-up. Started by `safeguarding::the_safeguarding_lead_follows_up_a_flag_in_a_browser`
// (HARK_URL, HARK_USER, HARK_PASSWORD, HARK_CHROMIUM, HARK_SHOTS).
"use strict";
const { env, check, launch } = require("./harness.cjs");

(async () => {
  const url = env("HARK_URL");
  const shots = env("HARK_SHOTS");
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(url + "/");
    await page.fill("#username", env("HARK_USER"));
    await page.fill("#password", env("HARK_PASSWORD"));
    await page.click("#sign-in button");
    await page.waitForSelector("#safeguarding:not([hidden])");
    await page.waitForFunction(() => document.getElementById("flags-new").textContent === "1 new flag");
    check(true, "the lead sees one new flag counted");
    check(await page.isHidden("#admin"), "the administration section is not the lead's");
    const table = await page.textContent("#flags");
    check(table.includes("Urgent"), "the flag's level is shown");
    check(table.includes("fw-0042"), "with the practitioner's staff code");
    check(table.includes("home visit 12"), "and the occasion");
    check(/How safe do you feel at home\?.*Not safe at all/s.test(table), "with the answer that raised it, in words");
    await page.screenshot({ path: shots + "/5-safeguarding-new.png", fullPage: true });

    await page.click("#flags button[aria-label^='Mark flag']");
    await page.waitForFunction(() => document.getElementById("flags-new").textContent === "no new flags");
    // The list is drawn again after the count: wait for it (the "Mark
    // seen" button gone) before typing into its follow-up form.
    await page.waitForSelector("#flags button[aria-label^='Mark flag']", { state: "detached" });
    check((await page.locator("#flags tr.status-seen").count()) === 1, "marked as seen");
    await page.fill("#flags textarea", "Spoke to the family and the school's DSL today.");
    await page.click("#flags form button");
    await page.waitForFunction(() => document.getElementById("flags").textContent.includes("followed up"), null, { timeout: 10000 })
      .catch(async () => { throw new Error("FAILED: no follow-up recorded (status: " + await page.textContent("#status") + ")"); });
    const after = await page.textContent("#flags");
    check(after.includes("Spoke to the family"), "the follow-up note is recorded");
    check(after.includes("by " + env("HARK_USER")), "with who recorded it");
    await page.screenshot({ path: shots + "/6-safeguarding-followed-up.png", fullPage: true });
    check(errors.filter((e) => !e.includes("401 (Unauthorized)")).length === 0, "no script errors (" + errors.join("; ") + ")");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
