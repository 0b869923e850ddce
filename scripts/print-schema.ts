// Prints schema.graphql from the Pothos schema (sorted), the file front-end teams generate clients from.
import fs from 'node:fs/promises';
import { printSchema } from 'graphql';
import { schema } from '../src/schema/index.js';

const SCHEMA_FILE = new URL('../schema.graphql', import.meta.url);

await fs.writeFile(SCHEMA_FILE, `${printSchema(schema)}\n`);
console.log('Wrote schema.graphql');
