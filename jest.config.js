/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // tsconfig's isolatedModules makes ts-jest transpile only; type checking is `npm run typecheck`.
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 60000,
  // Installs redis-server/memcached when missing (as root on Debian), or stops with the command to run.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
};
