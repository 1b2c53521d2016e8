#!/usr/bin/env node
// Tokenizes real `*.relance` files with the TextMate grammar (vscode-textmate + vscode-oniguruma,
// the engine VS Code itself uses) and fails when the grammar disagrees with them.
//
//   node tests/no-invalid.js [--dump] [PATH...]     (run from editor-grammar/)
//
// PATH is a file or a folder (default: the repository root, `..`). Folders are walked for
// `*.relance` files, skipping `node_modules`, `target`, dot-folders, `invalid` folders (parser
// test cases that are wrong on purpose) and grammar test fixtures (files whose first line is
// `# SYNTAX TEST …`; `npm test` checks those). A file named explicitly is always checked.
//
// A file fails when:
//   1. a token gets an `invalid.*` scope (the grammar marks `;`, `@`, backticks, a lone `=`, a
//      number glued to a word, … as `invalid.illegal.*.relance`);
//   2. a token holding a letter or digit gets no scope but `source.relance` and `meta.*`
//      (a word the grammar does not know how to colour);
//   3. the file ends inside a construct (an unclosed block or string: the grammar state leaked).
// Besides, when dsl/src/syntax/relance.pest is found next to this folder, every keyword of the
// language grammar (`kw_* = @{ "word" … }`) must appear in a regex of the TextMate grammar.
//
// `--dump` prints every token with its scopes instead (handy when writing tests).
'use strict';

const fs = require('fs');
const path = require('path');

function requireEngine(name) {
  try {
    return require(name);
  } catch (_) {
    // Fall back to the copy vscode-tmgrammar-test brings along.
    return require(require.resolve(name, { paths: [path.dirname(require.resolve('vscode-tmgrammar-test/package.json'))] }));
  }
}
const vsctm = requireEngine('vscode-textmate');
const oniguruma = requireEngine('vscode-oniguruma');

const HERE = path.resolve(__dirname, '..');
const GRAMMAR = path.join(HERE, 'syntaxes', 'relance.tmLanguage.json');
const PEST = path.join(HERE, '..', 'dsl', 'src', 'syntax', 'relance.pest');
const SKIP_DIRS = new Set(['node_modules', 'target', 'invalid']);

async function loadGrammar() {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm')).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === 'source.relance'
        ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR)
        : null,
  });
  return registry.loadGrammar('source.relance');
}

function isFixture(file) {
  const first = fs.readFileSync(file, 'utf8').split(/\r?\n/, 1)[0];
  return /^#\s+SYNTAX\s+TEST\b/.test(first);
}

function collect(target, out) {
  const st = fs.statSync(target);
  if (st.isFile()) {
    out.push(target);
    return;
  }
  for (const entry of fs.readdirSync(target, { withFileTypes: true })) {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && !SKIP_DIRS.has(entry.name)) collect(full, out);
    } else if (entry.isFile() && entry.name.endsWith('.relance') && !isFixture(full)) {
      out.push(full);
    }
  }
}

function tokenize(grammar, text, onToken) {
  let stack = vsctm.INITIAL;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) {
      onToken(i, line.slice(t.startIndex, Math.min(t.endIndex, line.length)), t);
    }
    stack = r.ruleStack;
  });
  return stack;
}

function checkFile(grammar, file) {
  const problems = [];
  const rel = path.relative(process.cwd(), file) || file;
  const final = tokenize(grammar, fs.readFileSync(file, 'utf8'), (line, text, t) => {
    const where = `${rel}:${line + 1}:${t.startIndex + 1}`;
    const bad = t.scopes.filter((s) => s.startsWith('invalid.'));
    if (bad.length) {
      problems.push(`${where}: ${JSON.stringify(text)} is scoped ${bad.join(' ')}`);
    } else if (/[A-Za-z0-9]/.test(text) && t.scopes.every((s) => s === 'source.relance' || s.startsWith('meta.'))) {
      problems.push(`${where}: ${JSON.stringify(text)} has no scope (${t.scopes.join(' ')})`);
    }
  });
  if (final.depth !== 1) {
    problems.push(`${rel}: the file ends inside a construct (grammar rule stack depth ${final.depth}, expected 1)`);
  }
  return problems;
}

function checkKeywords() {
  if (!fs.existsSync(PEST)) return [];
  const raw = JSON.parse(fs.readFileSync(GRAMMAR, 'utf8'));
  const regexes = [];
  (function walk(node) {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (['match', 'begin', 'end'].includes(k) && typeof v === 'string') regexes.push(v);
        else walk(v);
      }
    }
  })(raw);
  const all = regexes.join('\n');
  const problems = [];
  const pest = fs.readFileSync(PEST, 'utf8');
  for (const m of pest.matchAll(/^kw_\w+\s*=\s*@\{([^}]*)\}/gm)) {
    for (const w of m[1].matchAll(/"([A-Za-z][A-Za-z-]*)"/g)) {
      const word = w[1];
      const re = new RegExp(`(?<![A-Za-z-])${word.replace(/-/g, '\\-')}(?![A-Za-z-])`);
      if (!re.test(all)) problems.push(`${path.relative(process.cwd(), PEST)}: keyword "${word}" appears in no regex of ${path.relative(process.cwd(), GRAMMAR)}`);
    }
  }
  return problems;
}

async function main() {
  const args = process.argv.slice(2);
  const dump = args.includes('--dump');
  const targets = args.filter((a) => a !== '--dump');
  if (targets.length === 0) targets.push(path.join(HERE, '..'));

  const grammar = await loadGrammar();
  if (dump) {
    for (const file of targets) {
      tokenize(grammar, fs.readFileSync(file, 'utf8'), (line, text, t) => {
        console.log(`${line + 1}:${t.startIndex + 1}\t${JSON.stringify(text)}\t${t.scopes.slice(1).join(' ')}`);
      });
    }
    return 0;
  }

  const files = [];
  for (const target of targets) collect(path.resolve(target), files);
  if (files.length === 0) {
    console.error(`no .relance file found under ${targets.join(', ')}`);
    return 1;
  }
  const problems = checkKeywords();
  for (const file of files) problems.push(...checkFile(grammar, file));
  for (const p of problems) console.error(p);
  const summary = `${files.length} .relance file(s) tokenized, ${problems.length} problem(s)`;
  if (problems.length) {
    console.error(summary);
    return 1;
  }
  console.log(summary);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(2);
  },
);
