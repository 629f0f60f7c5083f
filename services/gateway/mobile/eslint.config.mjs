// ESLint (flat config) for the phone app: ES modules (import/export), with
// the console's rules and browser globals (console/eslint.config.mjs) so
// both are held to the same line. `make lint` runs it like the console's.
import consoleConfig from "../console/eslint.config.mjs";

export default consoleConfig.map((block) => ({
  ...block,
  languageOptions: {
    ...block.languageOptions,
    sourceType: "module",
  },
  // Modules are strict already: no "use strict" directive to require.
  rules: { ...block.rules, strict: "off" },
}));
