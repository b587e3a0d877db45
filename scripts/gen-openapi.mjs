// Derives k8ts's own OpenAPI documents from upstream's published specs: every fact (group-versions, kinds,
// paths, operations, parameters, field names, types, formats, required lists, defaults, enums, $refs and the
// x-kubernetes-* extensions) carries over; upstream's prose (every `description`) does not, and `info` is ours.
//
//   node scripts/gen-openapi.mjs [--from DIR]     (DIR defaults to ../shared/kubernetes/openapi)
//
// Writes src/api/openapi/v3/<group-version path with "/" as "__">.json (one OpenAPI 3 document each) and
// src/api/openapi/v2.json (the Swagger 2.0 document). Output is compact and deterministic: object keys are
// sorted, except where their order is data (the members of `properties`, kept in upstream's order); arrays
// keep their order. Running it again over the same input rewrites identical files.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const fromFlag = process.argv.indexOf('--from');
const sourceDir =
  fromFlag >= 0 && process.argv[fromFlag + 1]
    ? path.resolve(process.argv[fromFlag + 1])
    : path.resolve(root, '..', 'shared', 'kubernetes', 'openapi');
const outDir = path.join(root, 'src', 'api', 'openapi');

/** Our own `info`, replacing upstream's. */
const info = { title: 'k8ts', version: 'unversioned' };

// Objects whose keys are names chosen by the API (a property called "description" is a fact, not prose).
const namedMaps = new Set([
  'properties',
  'patternProperties',
  'definitions',
  'schemas',
  'paths',
  'responses',
  'content',
  'securitySchemes',
  'securityDefinitions',
  'parameters',
  'headers',
  'encoding',
  'examples',
]);
// Keys whose values are JSON data, not OpenAPI objects.
const literalData = new Set(['default', 'example', 'enum']);
// Named maps whose member order is meaningful to readers of the schema (kubectl explain, field order).
const orderedMaps = new Set(['properties']);

function isPlainObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copies `value` without prose; `parentKey` says what kind of object `value` is. */
function strip(value, parentKey) {
  if (Array.isArray(value)) return value.map((v) => strip(v, undefined));
  if (!isPlainObject(value)) return value;
  // Extension values (validation rules, unions) and literal data (defaults, examples, enum members) are
  // facts in their own shapes: keep them whole.
  if (parentKey !== undefined && (parentKey.startsWith('x-') || literalData.has(parentKey))) return value;
  const named = parentKey !== undefined && namedMaps.has(parentKey);
  const keys = Object.keys(value);
  if (!(named && orderedMaps.has(parentKey))) keys.sort();
  const out = {};
  for (const k of keys) {
    if (!named && k === 'description') continue;
    // Members of a named map are objects of the kind the map holds, not maps themselves.
    out[k] = named ? strip(value[k], undefined) : strip(value[k], k);
  }
  return out;
}

function derive(doc) {
  const out = strip(doc, undefined);
  out.info = info;
  return out;
}

// The reference ships SHA-256 sums; refuse to derive anything from a copy that does not match them.
const expectedSums = new Map();
for (const sums of [path.join(sourceDir, 'v3', 'SHA256SUMS'), path.join(sourceDir, 'SHA256SUMS-v2')]) {
  if (!existsSync(sums)) continue;
  const dir = path.dirname(sums);
  for (const line of readFileSync(sums, 'utf8').split('\n')) {
    const [sum, name] = line.trim().split(/\s+/);
    if (sum && name) expectedSums.set(path.join(dir, name), sum);
  }
}

function readJSON(file) {
  const bytes = readFileSync(file);
  const want = expectedSums.get(file);
  if (want !== undefined) {
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== want) throw new Error(`${file}: sha256 ${got}, expected ${want}`);
  }
  return JSON.parse(bytes.toString('utf8'));
}

function write(file, doc) {
  const text = JSON.stringify(doc) + '\n';
  writeFileSync(file, text);
  return Buffer.byteLength(text);
}

const v3In = path.join(sourceDir, 'v3');
const v3Out = path.join(outDir, 'v3');
const v3Files = readdirSync(v3In)
  .filter((f) => f.endsWith('_openapi.json'))
  .sort();
if (v3Files.length === 0) throw new Error(`no *_openapi.json files in ${v3In}`);

// Start clean so that a group-version dropped upstream disappears here too.
rmSync(v3Out, { recursive: true, force: true });
mkdirSync(v3Out, { recursive: true });
let total = 0;
for (const f of v3Files) {
  const name = f.slice(0, -'_openapi.json'.length) + '.json';
  const bytes = write(path.join(v3Out, name), derive(readJSON(path.join(v3In, f))));
  total += bytes;
  console.log(`v3/${name} ${bytes} bytes`);
}
const v2Bytes = write(path.join(outDir, 'v2.json'), derive(readJSON(path.join(sourceDir, 'swagger.json'))));
total += v2Bytes;
console.log(`v2.json ${v2Bytes} bytes`);
console.log(`total ${total} bytes in ${v3Files.length + 1} files under ${path.relative(root, outDir)}`);
