// Kept in sync with package.json by test/00-package.test.mjs.
export const VERSION = '0.1.0';
