// The tests that exercise the data-cache runtime and the stream purges, for StrykerJS
// (stryker.conf.json): the runtime suites against real redis-server / memcached, the purge suites.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/runtime/**/*.test.ts', '<rootDir>/test/purge/**/*.test.ts'],
};
