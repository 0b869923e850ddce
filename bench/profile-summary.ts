// Where a profiled server's CPU went: `tsx bench/profile-summary.ts <dir or .cpuprofile> [--all] [--top N] [--window NAME]`.
// Given a directory, reads its newest .cpuprofile and, unless --all, only the samples inside the window
// the benchmark wrote there (window.json: its measured phase; with --window NAME, NAME-window.json, such
// as bench:gifts' floor), so setup and warm-up do not blur the picture.
// Prints self time by package, the top functions by self and by inclusive time, and inclusive time by
// package (what share of samples had that package anywhere on the stack).
import fs from 'node:fs';
import path from 'node:path';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type Profile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] };

const args = process.argv.slice(2);
const valueOf = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const windowName = valueOf('--window');
const target = args.find((arg, i) => !arg.startsWith('--') && !/^\d+$/.test(arg) && args[i - 1] !== '--window');
const all = args.includes('--all');
const top = Number(valueOf('--top')) || 25;
if (!target) {
  console.error('usage: tsx bench/profile-summary.ts <dir or .cpuprofile> [--all] [--top N] [--window NAME]');
  process.exit(1);
}

let file = target;
let window: { fromUs: number; toUs: number } | undefined;
if (fs.statSync(target).isDirectory()) {
  const profiles = fs.readdirSync(target).filter((name) => name.endsWith('.cpuprofile'));
  if (profiles.length === 0) throw new Error(`No .cpuprofile in ${target}`);
  file = path.join(target, profiles.sort((a, b) => fs.statSync(path.join(target, b)).mtimeMs - fs.statSync(path.join(target, a)).mtimeMs)[0]!);
  const windowFile = path.join(target, windowName ? `${windowName}-window.json` : 'window.json');
  if (!all && fs.existsSync(windowFile)) window = JSON.parse(fs.readFileSync(windowFile, 'utf8'));
}
const profile: Profile = JSON.parse(fs.readFileSync(file, 'utf8'));

/** The package a frame belongs to: an npm package, a Node internal module, the app, or a VM pseudo-frame. */
function packageOf({ url, functionName }: CallFrame): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const [first, second] = url.slice(modules + 'node_modules/'.length).split('/');
    return first!.startsWith('@') ? `${first}/${second}` : first!;
  }
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0]!;
  return url.includes('/dist/') ? 'ovation (dist)' : url;
}
const shortUrl = (url: string) => url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/');
const nameOf = (frame: CallFrame) =>
  frame.url ? `${frame.functionName || '(anonymous)'}  ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : frame.functionName || '(anonymous)';

/**
 * The stage of the fan-out a sample belongs to: its innermost frame that names one (a write's syscall is
 * under ws's sender; a resolver is under the executor). Unnamed samples fall to their leaf's package.
 */
const STAGES: [string, (frame: CallFrame) => boolean][] = [
  ['socket writes (ws send -> writev)', (f) => f.url.includes('node_modules/ws/')],
  ['serialization (graphql-ws stringifyMessage, JSON)', (f) => f.functionName === 'stringifyMessage' || f.functionName === 'stringify'],
  ['room stream + async iteration (room-stream, rooms subscribe, repeater, flattenAsyncIterable)', (f) =>
    /dist\/src\/events\/fanout\/room-stream|node_modules\/@repeaterjs\//.test(f.url) || f.functionName === 'flattenAsyncIterable' || /flattenAsyncIterable|mapAsyncIterator/.test(f.url) ||
    (f.url.includes('dist/src/schema/rooms') && ['subscribe', 'expand'].includes(f.functionName))],
  ['execution per subscriber (executor, envelop, resolvers)', (f) => /node_modules\/(@graphql-tools\/(executor|utils)|@envelop\/|graphql\/)|dist\/src\/schema\//.test(f.url)],
  ['database (prisma, pg)', (f) => /node_modules\/(@prisma\/|pg\/|pg-protocol\/|pg-pool\/)/.test(f.url)],
  ['graphql-ws (other)', (f) => f.url.includes('node_modules/graphql-ws/')],
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
];
// runMicrotasks is on every promise continuation's stack: only time spent in it directly is its own.
const MICROTASKS = 'microtask queue itself (promise scheduling)';

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

const self = new Map<string, number>();
const selfByPackage = new Map<string, number>();
const inclusive = new Map<string, number>();
const inclusiveByPackage = new Map<string, number>();
const stages = new Map<string, number>();
const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);
let busyUs = 0;
let idleUs = 0;
let time = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  time += profile.timeDeltas[i]!;
  // A sample stands for the time until the next one.
  const us = profile.timeDeltas[i + 1] ?? 0;
  if (window && (time < window.fromUs || time > window.toUs)) continue;
  const leaf = byId.get(profile.samples[i]!)!;
  if (leaf.callFrame.functionName === '(idle)') {
    idleUs += us;
    continue;
  }
  busyUs += us;
  add(self, nameOf(leaf.callFrame), us);
  add(selfByPackage, packageOf(leaf.callFrame), us);
  // Each function and package counts once per sample, however deep the recursion.
  let stage: string | undefined;
  const names = new Set<string>();
  const packages = new Set<string>();
  for (let id: number | undefined = leaf.id; id !== undefined; id = parentOf.get(id)) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(root)') continue;
    stage ??= id === leaf.id && frame.functionName === 'runMicrotasks' ? MICROTASKS : STAGES.find(([, matches]) => matches(frame))?.[0];
    names.add(nameOf(frame));
    packages.add(packageOf(frame));
  }
  add(stages, stage ?? `other: ${packageOf(leaf.callFrame)}`, us);
  for (const name of names) add(inclusive, name, us);
  for (const name of packages) add(inclusiveByPackage, name, us);
}

const spanUs = window ? window.toUs - window.fromUs : profile.endTime - profile.startTime;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const pct = (us: number) => `${((us / busyUs) * 100).toFixed(1).padStart(5)}%`;
function print(title: string, map: Map<string, number>, limit: number) {
  console.log(`\n${title}`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)) console.log(`${ms(us)} ${pct(us)}  ${key}`);
}

console.log(`Profile: ${file}`);
console.log(
  `${window ? 'Measured window' : 'Whole run'}: ${(spanUs / 1e6).toFixed(1)} s, busy ${(busyUs / 1e6).toFixed(2)} s = ` +
    `${((busyUs / spanUs) * 100).toFixed(0)}% of one core, idle ${(idleUs / 1e6).toFixed(2)} s. Percentages are of busy time.`,
);
if (window && busyUs + idleUs === 0) console.log('No samples in the window: was this profile written by the same run?');
print('Stages (each sample to the innermost frame that names one)', stages, 15);
print('Self time by package', selfByPackage, 15);
print(`Top ${top} functions by self time`, self, top);
print('Inclusive time by package (on the stack at all)', inclusiveByPackage, 15);
print(`Top ${top} functions by inclusive time`, inclusive, top);
