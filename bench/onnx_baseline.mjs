// ONNX Runtime half of the engine benchmark's ONNX baseline: runs the graphs that
// bench/onnx_baseline.py exported (which also starts this script) with onnxruntime-node's CPU
// execution provider, over the same length-sorted, per-batch padded inputs as
// bench/pytorch_baseline.py, and writes the same JSON shape:
//   {"onnxruntime": version, "threads": n, "runs": [{task, dtype, seconds, tokens, tokens_per_s}],
//    "check": {"embed/float32": [[...], ...], "rerank/float32": [...]}}
// Arguments: those of onnx_baseline.py plus --embed-onnx PATH --rerank-onnx PATH.
// onnxruntime-node lives in bench/onnx/node_modules (`npm ci` in bench/onnx).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(new URL('./onnx/package.json', import.meta.url));
const ort = require('onnxruntime-node');

const PAD = 1n; // XLM-R's <pad>

const flagOf = (key) => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()); // batchSize

function parseArgs(argv) {
  const a = { dtypes: 'float32,bfloat16', batchSize: 32, threads: 2, repeat: 1 };
  const names = {
    '--inputs': 'inputs', '--dtypes': 'dtypes', '--batch-size': 'batchSize', '--threads': 'threads',
    '--repeat': 'repeat', '--output': 'output', '--embed-onnx': 'embedOnnx',
    '--rerank-onnx': 'rerankOnnx',
    // used by onnx_baseline.py only
    '--embedder': null, '--reranker': null, '--cache': null,
  };
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].split(/=(.*)/s); // also accept --flag=value, as argparse does
    if (!(flag in names)) throw new Error(`unknown argument ${argv[i]}`);
    if (value === undefined) value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (names[flag]) a[names[flag]] = value;
  }
  for (const k of ['batchSize', 'threads', 'repeat']) {
    a[k] = Number.parseInt(a[k], 10);
    if (!(a[k] >= 1)) throw new Error(`${flagOf(k)} must be >= 1`);
  }
  for (const k of ['inputs', 'embedOnnx', 'rerankOnnx']) {
    if (!a[k]) throw new Error(`missing ${flagOf(k)}`);
  }
  return a;
}

// Longest first (a stable sort, like Python's sorted), padded to the batch's longest row.
function* batches(inputs, batchSize) {
  const order = inputs.map((_, i) => i).sort((x, y) => inputs[y].length - inputs[x].length);
  for (let s = 0; s < order.length; s += batchSize) {
    const rows = order.slice(s, s + batchSize);
    const L = Math.max(...rows.map((i) => inputs[i].length));
    const ids = new BigInt64Array(rows.length * L).fill(PAD);
    rows.forEach((i, r) => inputs[i].forEach((t, k) => { ids[r * L + k] = BigInt(t); }));
    const mask = ids.map((t) => (t !== PAD ? 1n : 0n));
    yield {
      rows,
      feeds: {
        input_ids: new ort.Tensor('int64', ids, [rows.length, L]),
        attention_mask: new ort.Tensor('int64', mask, [rows.length, L]),
      },
    };
  }
}

// One pass over `inputs`; returns per input its embedding (Float32Array) or score (number).
async function run(session, inputs, batchSize) {
  const out = new Array(inputs.length);
  const name = session.outputNames[0];
  for (const { rows, feeds } of batches(inputs, batchSize)) {
    const y = (await session.run(feeds))[name];
    const width = y.dims.length > 1 ? y.dims[1] : 0; // embeddings [b, h]; logits [b]
    rows.forEach((i, r) => {
      out[i] = width ? y.data.slice(r * width, (r + 1) * width) : y.data[r];
    });
  }
  return out;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const inp = JSON.parse(readFileSync(a.inputs, 'utf8'));
  const output = a.output ?? inp.onnx_output ?? 'bench-onnx.json';
  const dtypes = a.dtypes.split(',').filter((d) => d);
  if (dtypes.includes('bfloat16')) {
    console.log('onnxruntime: the CPU execution provider has no bfloat16 path; skipping bfloat16');
  }
  const version = ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown';
  const results = { onnxruntime: version, threads: a.threads, runs: [], check: {} };
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
  const n = inp.check_count ?? 8;
  for (const [task, model] of [['embed', a.embedOnnx], ['rerank', a.rerankOnnx]]) {
    if (!dtypes.includes('float32')) continue;
    const ids = inp[task];
    const tokens = ids.reduce((s, x) => s + x.length, 0);
    const session = await ort.InferenceSession.create(model, options);
    await run(session, ids.slice(0, a.batchSize), a.batchSize); // warm-up
    let best = Infinity;
    let out;
    for (let r = 0; r < a.repeat; r++) {
      const t = performance.now();
      out = await run(session, ids, a.batchSize);
      best = Math.min(best, (performance.now() - t) / 1000);
    }
    await session.release();
    const tokensPerS = tokens / best;
    results.runs.push({ task, dtype: 'float32', seconds: best, tokens, tokens_per_s: tokensPerS });
    results.check[`${task}/float32`] = out
      .slice(0, n)
      .map((v) => (typeof v === 'number' ? v : Array.from(v)));
    console.log(`onnxruntime ${task.padEnd(6)} ${'float32'.padEnd(8)} ` +
                `${tokensPerS.toFixed(1).padStart(9)} tokens/s`);
  }
  writeFileSync(output, JSON.stringify(results));
}

main().catch((e) => {
  console.error(`onnx_baseline: ${e.stack ?? e}`);
  process.exit(1);
});
