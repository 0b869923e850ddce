import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from '../src/schema/index.js';

/** schema.graphql: the API as front-end teams generate clients from it, kept current by `npm run schema`. */
export const SCHEMA_FILE = fileURLToPath(new URL('../schema.graphql', import.meta.url));

/** The text schema.graphql must hold for the current Pothos schema (sorted, so it diffs well). */
export function schemaFileText(): string {
  return `${printSchema(schema)}\n`;
}
