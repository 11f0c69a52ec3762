import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

const noVscodeInCore = {
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'vscode', message: 'The pure core (src/memory, src/sandbox, src/mcp, src/common) must not import vscode: it also runs under plain Node.' }],
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.cache/**', '.vscode-test/**', 'test-results/**', 'test/fixtures/wpt/**', '*.mjs', 'scripts/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  { files: ['src/memory/**', 'src/sandbox/**', 'src/mcp/**', 'src/common/**'], rules: noVscodeInCore },
  {
    files: ['src/memory/**'],
    rules: { 'no-restricted-imports': ['error', { paths: noVscodeInCore['no-restricted-imports'][1].paths, patterns: [{ group: ['**/sandbox', '**/sandbox/**', '**/mcp', '**/mcp/**', '**/views/**'], message: 'src/memory must not import sandbox, mcp or views.' }] }] },
  },
  {
    files: ['src/sandbox/**'],
    rules: { 'no-restricted-imports': ['error', { paths: noVscodeInCore['no-restricted-imports'][1].paths, patterns: [{ group: ['**/memory', '**/memory/**', '**/mcp', '**/mcp/**', '**/views/**'], message: 'src/sandbox must not import memory, mcp or views.' }] }] },
  },
  {
    files: ['src/mcp/**'],
    rules: { 'no-restricted-imports': ['error', { paths: noVscodeInCore['no-restricted-imports'][1].paths, patterns: [{ group: ['**/views/**', '**/extension'], message: 'src/mcp must not import views or the extension.' }] }] },
  },
  {
    // The guest runtime runs inside QuickJS and captures built-in methods before guest code can replace
    // them, then calls them with Reflect.apply: unbound methods are the point there.
    files: ['src/sandbox/guest/**'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
