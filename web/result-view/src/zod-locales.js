// zod's locale index, cut to the English messages the bridge can show
// (build.mjs points zod's own index here; the other locales are 260 KB).
export { default as en } from "zod/v4/locales/en.js";
