// ESLint (flat config) for the web console: plain browser scripts sharing
// one global, window.zy. `make lint` runs it with the pinned eslint that
// `make tools` installs from npm into .tools/npm (scripts/tools.sh).
// No plugin or shared preset: the rules are listed here so the config has
// nothing to resolve besides eslint itself.
const BROWSER = [
  "window", "document", "location", "history", "navigator", "localStorage", "sessionStorage",
  "fetch", "URL", "URLSearchParams", "Blob", "FormData", "Headers", "TextDecoder", "TextEncoder",
  "Node", "Element", "HTMLElement", "Event", "CustomEvent", "CSS", "Intl", "crypto",
  "setTimeout", "clearTimeout", "setInterval", "clearInterval", "requestAnimationFrame",
  "alert", "confirm", "prompt", "console", "AbortController", "structuredClone",
];

export default [
  {
    files: ["**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: Object.fromEntries(BROWSER.map((name) => [name, "readonly"])),
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "no-undef": "error",
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
      "no-redeclare": "error",
      "no-shadow-restricted-names": "error",
      "no-dupe-keys": "error",
      "no-duplicate-case": "error",
      "no-unreachable": "error",
      "no-constant-condition": ["error", { checkLoops: false }],
      "no-self-assign": "error",
      "no-self-compare": "error",
      "no-use-before-define": ["error", { functions: false, classes: false, variables: false }],
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: ["error", "always"],
      "no-implied-eval": "error",
      "no-eval": "error",
      "no-new-func": "error",
      "no-restricted-syntax": ["error", {
        selector: "Property[key.name='style']",
        message: "Keep styles in app.css: give the element a class.",
      }],
      strict: ["error", "global"],
    },
  },
];
