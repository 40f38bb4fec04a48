#!/usr/bin/env node
// Ground truth for skillmatch's tokenizer.json reader: Hugging Face's Rust tokenizers (through the
// npm package @anush008/tokenizers, a prebuilt binding of tokenizers 0.22).
//
//   node hf_tokenize.js TOKENIZER_JSON < in.jsonl > out.jsonl
//
// Reads JSON Lines {"text": ..., "text_pair"?: ...} and prints {"ids": [...]} per line: the ids
// of Tokenizer.encode with the special tokens the post-processor adds. With --decode, reads
// {"ids": [...], "skip_special_tokens": bool} and prints {"text": ...}.
// Install once: (cd tests/tools/node && npm ci --ignore-scripts)
'use strict';
const fs = require('fs');
const readline = require('readline');
const { Tokenizer } = require('@anush008/tokenizers');

async function main() {
  const args = process.argv.slice(2);
  const decode = args[0] === '--decode';
  if (decode) args.shift();
  if (args.length !== 1) {
    process.stderr.write('usage: hf_tokenize.js [--decode] TOKENIZER_JSON < in.jsonl\n');
    process.exit(2);
  }
  const tokenizer = Tokenizer.fromFile(args[0]);
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  const out = [];
  for await (const line of rl) {
    if (line === '') continue;
    const j = JSON.parse(line);
    if (decode) {
      const text = await tokenizer.decode(j.ids, j.skip_special_tokens !== false);
      out.push(JSON.stringify({ text }));
      continue;
    }
    const pair = j.text_pair === undefined ? null : j.text_pair;
    const enc = await tokenizer.encode(j.text, pair, { addSpecialTokens: true });
    out.push(JSON.stringify({ ids: enc.getIds() }));
  }
  fs.writeSync(1, out.join('\n') + (out.length ? '\n' : ''));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
