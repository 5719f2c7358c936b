// `npm run lint`: ESLint with typescript-eslint's recommended type-checked rules over the TypeScript
// that tsconfig.json covers (the type information comes from it); `npm run typecheck` stays tsc.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'temp/', 'bench/profiles/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    // `_` names a value that is there only to be skipped.
    rules: { '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }] },
  },
  // The fakes and the tests read raw Discord and OpenAI JSON, whose shape is what the tests assert:
  // typing every payload would restate the protocols the fakes cite. The bot's own code gets no such pass.
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Fakes implement async interfaces with bodies that have nothing to wait for.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // This file is JavaScript outside tsconfig.json: no type information for it.
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
);
