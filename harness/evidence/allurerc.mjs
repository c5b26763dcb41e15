// Allure 3 configuration that `hil run` and `hil report` hand to `allure generate -c`. It ships inside
// the harness package (package data), so every install has it, editable or not.
//
// - one self-contained HTML file that opens from file:// (awesome plugin, singleFile);
// - a history file kept across runs for nightly trends (`hil` sets HIL_ALLURE_HISTORY to
//   <reports>/history.jsonl);
// - the report's categories: "Duty not met" (failed), "Lab broken" (broken by a harness.errors.LabError,
//   whose message starts with its kind: timeout, unreachable, auth refused …), "Harness error" (any other
//   broken). Allure 3 reads categories only from here (it ignores allure-results/categories.json, which
//   `hil` still writes from the same file for Allure 2 viewers).
import { readFileSync } from "node:fs";

const categories = JSON.parse(readFileSync(new URL("./allure_categories.json", import.meta.url), "utf8"));

export default {
  name: "hil duty report",
  historyPath: process.env.HIL_ALLURE_HISTORY || "reports/history.jsonl",
  categories,
  plugins: {
    awesome: {
      options: { singleFile: true, reportName: "hil duty report", groupBy: ["epic", "feature", "story"] },
    },
  },
};
