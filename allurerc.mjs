// Allure 3 configuration used by `hil run` / `hil report`: one self-contained HTML file that opens
// from file://, and a history file kept across runs for nightly trends.
export default {
  name: "hil duty report",
  historyPath: process.env.HIL_ALLURE_HISTORY || "reports/history.jsonl",
  plugins: {
    awesome: {
      options: { singleFile: true, reportName: "hil duty report", groupBy: ["epic", "feature", "story"] },
    },
  },
};
