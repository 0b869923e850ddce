// Writes schema.graphql from the Pothos schema (sorted), the file front-end teams generate clients from.
import fs from 'node:fs/promises';
import { SCHEMA_FILE, schemaFileText } from './schema-file.js';

await fs.writeFile(SCHEMA_FILE, schemaFileText());
console.log('Wrote schema.graphql');
