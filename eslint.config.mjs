// The pages' scripts run inline in a browser page, as classic scripts: one function each, called by the page.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["gategrad/viz/web/**/*.js"],
    languageOptions: { sourceType: "script", ecmaVersion: 2020, globals: globals.browser },
  },
];
