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
  },
  // This file is JavaScript outside tsconfig.json: no type information for it.
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
);
