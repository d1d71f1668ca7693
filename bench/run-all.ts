// Runs every benchmark in bench/ (each top-level bench/*.ts, compiled to dist/bench/*.js) one after
// the other, each in its own process so that one cannot disturb the next. Helpers live in bench/lib/.
//   npm run bench [-- ARGS passed to every bench]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const self = path.basename(__filename);
const benches = fs.readdirSync(__dirname)
  .filter((f) => f.endsWith('.js') && f !== self)
  .sort();

if (benches.length === 0) {
  console.error(`no benchmarks in ${__dirname}`);
  process.exit(1);
}

const results: Array<{ name: string; status: string; seconds: number }> = [];
for (const f of benches) {
  const name = f.replace(/\.js$/, '');
  console.log(`\n=== bench ${name} ===`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(__dirname, f), ...process.argv.slice(2)], { stdio: 'inherit' });
  const status = r.error ? `failed to start: ${r.error.message}` : r.status === 0 ? 'ok' : `exit ${r.status ?? r.signal}`;
  results.push({ name, status, seconds: (Date.now() - t0) / 1000 });
}

console.log('\n=== summary ===');
for (const r of results) console.log(`${r.name.padEnd(20)} ${r.status.padEnd(12)} ${r.seconds.toFixed(1)} s`);
process.exitCode = results.every((r) => r.status === 'ok') ? 0 : 1;
