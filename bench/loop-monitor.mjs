// Preloaded into the benchmarked server (node --import): measures the event loop's delay.
// SIGUSR2 writes the figures since the previous SIGUSR2 to $MUSTER_BENCH_LOOP_FILE and starts over.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 5 });
histogram.enable();
process.on('SIGUSR2', () => {
  const file = process.env.MUSTER_BENCH_LOOP_FILE;
  if (file) {
    const figures = { maxMs: histogram.max / 1e6, p99Ms: histogram.percentile(99) / 1e6, meanMs: histogram.mean / 1e6 };
    writeFileSync(file, JSON.stringify(figures));
  }
  histogram.reset();
});
