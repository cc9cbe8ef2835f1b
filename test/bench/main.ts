import { benchApi } from './api-bench.js';
import { benchInvoke } from './invoke-bench.js';
import { benchFire } from './fire-bench.js';
import { benchAlarms } from './alarms-bench.js';
import { benchKafka } from './kafka-bench.js';
import { benchWebhooks } from './webhooks-bench.js';

/**
 * `npm run bench -- [name...]`: runs the named benchmarks (all when none is named) and prints
 * their figures. Figures are medians over rounds; ratios are against a baseline measured in the
 * same run.
 */
const BENCHES: Record<string, () => Promise<{ name: string; figures: Record<string, number>; met: boolean }>> = {
  api: () => benchApi({ rounds: Number(process.env.BENCH_ROUNDS ?? 5), seconds: Number(process.env.BENCH_SECONDS ?? 5), connections: 32 }),
  invoke: () => benchInvoke({ rounds: Number(process.env.BENCH_ROUNDS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 3) }),
  fire: () => benchFire({ rounds: Number(process.env.BENCH_ROUNDS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 5) }),
  webhooks: () => benchWebhooks({ rounds: Number(process.env.BENCH_ROUNDS ?? 3), seconds: Number(process.env.BENCH_SECONDS ?? 5), connections: Number(process.env.BENCH_CONNECTIONS ?? 16) }),
  kafka: () =>
    benchKafka({
      rounds: Number(process.env.BENCH_ROUNDS ?? 3),
      messages: Number(process.env.BENCH_KAFKA_MESSAGES ?? 200_000),
      outageSeconds: Number(process.env.BENCH_OUTAGE_S ?? 60),
      ratePerSecond: Number(process.env.BENCH_KAFKA_RATE ?? 2000),
    }),
  alarms: () => benchAlarms({ alarms: Number(process.env.BENCH_ALARMS ?? 10_000), seconds: Number(process.env.BENCH_SECONDS ?? 120) }),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHES[w]);
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  console.error(`running bench ${name} ...`);
  const result = await BENCHES[name]();
  console.log(`\n## bench ${result.name}: goal ${result.met ? 'met' : 'NOT met'}`);
  for (const [k, v] of Object.entries(result.figures)) console.log(`  ${k}: ${v}`);
}
