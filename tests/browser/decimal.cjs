// A decimal question on a phone, through a survey link: the number is
// typed as text with the decimal keypad, a comma or a number out of bounds
// gets the author's message before anything is sent, and the number as
// typed (6.50) is sent and thanked for. Started by
// `forms::a_decimal_is_typed_checked_and_sent_from_a_phone` (HARK_LINK,
// HARK_AXE, HARK_CHROMIUM, HARK_SHOTS).
"use strict";
const { env, check, launch, audit } = require("./harness.cjs");

(async () => {
  const link = env("HARK_LINK");
  const shots = env("HARK_SHOTS");
  const browser = await launch();
  try {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
      bypassCSP: true, // only so that the axe audit can be injected
    });
    const p = await phone.newPage();
    const errors = [];
    p.on("pageerror", (e) => errors.push(String(e)));
    await p.goto(link);
    await p.waitForSelector(".webform.adult");
    await p.getByRole("button", { name: "Start" }).click();
    await p.getByRole("button", { name: "Yes, I agree" }).click();
    const weeks = p.getByLabel("How many weeks did you wait for the assessment?");
    check(await weeks.getAttribute("inputmode") === "decimal", "the phone offers its decimal keypad");
    check(await weeks.getAttribute("type") === "text", "the number is typed as text, never rounded");

    const message = "Please give the weeks from 0 to 104, such as 6.5.";
    for (const bad of ["6,5", "104.5", "six"]) {
      await weeks.fill(bad);
      await p.getByRole("button", { name: "Send my answers" }).click();
      await p.waitForSelector(".problem:has-text('" + message + "')");
      check(true, "'" + bad + "' gets the author's message before anything is sent");
    }
    await p.screenshot({ path: shots + "/decimal-1-refused.png", fullPage: true });
    await audit(p, "a refused decimal");

    await weeks.fill("6.50");
    await p.getByRole("button", { name: "Send my answers" }).click();
    await p.waitForSelector("text=Thank you", { timeout: 20000 });
    check(true, "6.50 is sent and thanked for");
    await p.screenshot({ path: shots + "/decimal-2-thank-you.png", fullPage: true });
    check(errors.length === 0, "no script errors (" + errors.join("; ") + ")");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
