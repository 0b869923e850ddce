import fs from 'node:fs/promises';
import { expect, test } from 'vitest';
import { SCHEMA_FILE, schemaFileText } from '../../scripts/schema-file.js';

test('schema.graphql is the schema the server serves', async () => {
  const committed = await fs.readFile(SCHEMA_FILE, 'utf8').catch(() => '');
  expect(committed, 'schema.graphql is stale: run `npm run schema` (it also refreshes the typed test documents)').toBe(schemaFileText());
});
