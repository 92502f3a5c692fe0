// What every browser test shares: its settings from the environment (set
// by `hark_tests::run_browser_script`), a check that prints TAP-style
// lines and stops at the first failure, Debian's Chromium launched
// headless, and the accessibility audit.
"use strict";
const { chromium } = require("playwright-core");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(name + " is not set");
  return v;
};

function check(condition, message) {
  if (!condition) throw new Error("FAILED: " + message);
  console.log("ok - " + message);
}

function launch() {
  return chromium.launch({
    executablePath: env("HARK_CHROMIUM"),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

// Audits the page with axe-core (HARK_AXE; WCAG 2.1 A and AA and axe's
// best practice): no violations. The page's context needs bypassCSP.
async function audit(page, what) {
  await page.addScriptTag({ path: env("HARK_AXE") });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] });
    return r.violations.map((v) => v.id + " (" + v.impact + "): " + v.help + " — " +
      v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", "));
  });
  check(result.length === 0, "no accessibility violations on " + what + (result.length ? ":\n  " + result.join("\n  ") : ""));
}

module.exports = { env, check, launch, audit };
