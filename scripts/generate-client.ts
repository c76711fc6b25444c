/** Writes src/client/schema.ts from the current routes (run by `npm run build:client`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateClientSchema, SCHEMA_FILE } from './client-schema.js';

const source = await generateClientSchema();
let before = '';
try {
  before = readFileSync(SCHEMA_FILE, 'utf8');
} catch {
  // first generation
}
if (before !== source) writeFileSync(SCHEMA_FILE, source);
console.log(`${fileURLToPath(SCHEMA_FILE)} ${before === source ? 'unchanged' : 'written'}`);
