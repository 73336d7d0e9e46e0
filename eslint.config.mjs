// The pages' scripts run inline in a browser page, as classic scripts: one function each, called by the page.
// The playground's are ES modules, served as files, one of them a Web Worker's.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["gategrad/viz/web/**/*.js"],
    languageOptions: { sourceType: "script", ecmaVersion: 2020, globals: globals.browser },
  },
  {
    files: ["gategrad/playground/web/**/*.js"],
    languageOptions: { sourceType: "module", ecmaVersion: 2022, globals: { ...globals.browser, ...globals.worker } },
  },
];
