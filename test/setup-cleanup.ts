// Runs in every test file: temp dirs made with test/tmp.ts are removed when the file is done.
import { afterAll } from 'vitest';
import { removeTempDirs } from './tmp.js';

afterAll(removeTempDirs);
