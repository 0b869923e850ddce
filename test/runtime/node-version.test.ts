import fs from 'node:fs';
import { expect, test } from 'vitest';

const engines = JSON.parse(fs.readFileSync('package.json', 'utf8')).engines.node as string;
const version = (text: string) => text.split('.').map(Number);
const atLeast = (have: number[], need: number[]) => {
  for (let i = 0; i < need.length; i++) if ((have[i] ?? 0) !== need[i]) return (have[i] ?? 0) > need[i]!;
  return true;
};

// .ci/run brings Node 24 where the machine's is older: should that ever stop, CI fails here rather
// than testing on a Node the project no longer supports.
test(`the suite runs on a Node that package.json's engines (${engines}) accepts`, () => {
  const minimum = /^>=(\d+(?:\.\d+){0,2})$/.exec(engines)?.[1];
  expect(minimum, 'engines.node is a plain ">=x.y" lower bound').toBeDefined();
  expect(atLeast(version(process.versions.node), version(minimum!)), `Node ${process.versions.node} is older than ${engines}`).toBe(true);
});
