import js from '@eslint/js'
import stylistic from '@stylistic/eslint-plugin'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { '@stylistic': stylistic },
    rules: {
      // Code is read side by side and in diffs. A message stays on one line so that grep finds it.
      '@stylistic/max-len': ['error', {
        code: 120,
        ignoreUrls: true,
        ignoreStrings: true,
        ignoreTemplateLiterals: true,
        ignoreRegExpLiterals: true
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'smart']
    }
  },
  {
    // A job's two sides meet only through messages and jobs/shared: the owner must not lean on how
    // the worker works, nor the worker on the owner's internals.
    files: ['packages/node/src/jobs/owner/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          group: ['**/jobs/worker/**', '../worker/**'],
          message: 'jobs/owner may not import jobs/worker: put what both sides need in jobs/shared.'
        }]
      }]
    }
  },
  {
    files: ['packages/node/src/jobs/worker/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          group: ['**/jobs/owner/**', '../owner/**'],
          message: 'jobs/worker may not import jobs/owner: put what both sides need in jobs/shared.'
        }]
      }]
    }
  },
  {
    // The CLI, scripts and benches talk to people on stdout/stderr.
    files: ['packages/cli/**', 'scripts/**', 'bench/**', 'test/**', 'systemd/**', 'packages/web/scripts/**'],
    rules: { 'no-console': 'off' }
  },
  {
    // The dashboard runs in browsers: their globals, not Node's.
    files: ['packages/web/src/**'],
    ignores: ['packages/web/src/**/*.test.ts'],
    languageOptions: { globals: { ...globals.browser } }
  }
)
