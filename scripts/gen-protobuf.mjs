// Derives the protobuf message table (src/apimachinery/protobuf/message-table.ts) from upstream's sources:
// the field numbers and protobuf types come from each package's generated.proto, and the JSON side of every
// field (its JSON name, whether it is inlined, omitempty, whether the Go field is a pointer) from the Go
// struct tags in the same package, because the JSON shape is what the rest of k8ts works with.
//
//   git clone --depth 1 --branch v0.33.13 https://github.com/kubernetes/api /tmp/k8s-api
//   git clone --depth 1 --branch v0.33.13 https://github.com/kubernetes/apimachinery /tmp/k8s-apimachinery
//   node scripts/gen-protobuf.mjs --api /tmp/k8s-api --apimachinery /tmp/k8s-apimachinery [--ref v0.33.13]
//
// The table in the repository was made from v0.33.13 of both, the release of our OpenAPI documents (--ref
// only names the release in the file's header). The packages taken are the group-versions that
// src/api/openapi/v2.json serves, plus the apimachinery packages they use; which messages are kinds comes
// from the same document. Output is deterministic.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outFile = path.join(root, 'src', 'apimachinery', 'protobuf', 'message-table.ts');

function flag(name) {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) {
    console.error(`usage: node scripts/gen-protobuf.mjs --api DIR --apimachinery DIR (missing ${name})`);
    process.exit(2);
  }
  return path.resolve(v);
}
const apiDir = flag('--api');
const machineryDir = flag('--apimachinery');
const fromRef = process.argv.includes('--ref') ? process.argv[process.argv.indexOf('--ref') + 1] : 'v0.33.13';

// apimachinery packages: proto package → [directory, short name used in the table].
const machineryPackages = {
  'k8s.io.apimachinery.pkg.apis.meta.v1': ['pkg/apis/meta/v1', 'meta.v1'],
  'k8s.io.apimachinery.pkg.runtime': ['pkg/runtime', 'runtime'],
  'k8s.io.apimachinery.pkg.util.intstr': ['pkg/util/intstr', 'intstr'],
  'k8s.io.apimachinery.pkg.api.resource': ['pkg/api/resource', 'resource'],
};
// Messages whose JSON form is not their protobuf structure; the codec knows each by name. (metav1.Duration
// has its own form too, a Go duration string, but no served type holds one: the codec would refuse it.)
const special = {
  'meta.v1.Time': '@time',
  'meta.v1.MicroTime': '@microtime',
  'meta.v1.Duration': '@duration',
  'meta.v1.FieldsV1': '@rawjson',
  'runtime.RawExtension': '@rawjson',
  'resource.Quantity': '@quantity',
  'intstr.IntOrString': '@intorstring',
};
// Envelope and proto-only messages that no API object field holds.
const skipped = new Set([
  'resource.QuantityValue',
  'meta.v1.Timestamp',
  'meta.v1.Fields',
  'runtime.Unknown',
  'runtime.TypeMeta',
]);

const v2 = JSON.parse(readFileSync(path.join(root, 'src', 'api', 'openapi', 'v2.json'), 'utf8'));

/** Group-versions served by our API, as k8s.io/api package directories ("apps/v1"). */
function servedPackages() {
  const dirs = new Set();
  for (const name of Object.keys(v2.definitions)) {
    const m = /^io\.k8s\.api\.([a-z0-9]+)\.([a-z0-9]+)\.[A-Za-z0-9]+$/.exec(name);
    if (m) dirs.add(`${m[1]}/${m[2]}`);
  }
  return [...dirs].sort();
}

/** The messages that are kinds (their definition names a group-version-kind), as table names. */
function servedKinds() {
  const kinds = new Set();
  for (const [name, def] of Object.entries(v2.definitions)) {
    if (name.startsWith('io.k8s.api.') && def['x-kubernetes-group-version-kind']) {
      kinds.add(name.slice('io.k8s.api.'.length));
    }
  }
  return kinds;
}

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

/** The messages of a generated.proto: name → fields {number, label, type, keyType}. */
function parseProto(file) {
  const text = stripComments(readFileSync(file, 'utf8'));
  const pkg = /^package\s+([\w.]+);/m.exec(text)?.[1];
  if (!pkg) throw new Error(`${file}: no package`);
  const messages = new Map();
  const messageRe = /message\s+(\w+)\s*\{([^{}]*)\}/g;
  for (const [, name, body] of text.matchAll(messageRe)) {
    const fields = [];
    for (const line of body.split(';')) {
      const s = line.trim();
      if (s === '') continue;
      let m = /^(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)$/.exec(s);
      if (m) {
        fields.push({ label: m[1], type: m[2], protoName: m[3], number: Number(m[4]) });
        continue;
      }
      m = /^map<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)$/.exec(s);
      if (m) {
        fields.push({ label: 'map', keyType: m[1], type: m[2], protoName: m[3], number: Number(m[4]) });
        continue;
      }
      throw new Error(`${file}: message ${name}: cannot read "${s}"`);
    }
    messages.set(name, fields);
  }
  return { pkg, messages };
}

/** Go structs (name → fields by protobuf number) and named slice types of a package directory. */
function parseGo(dir) {
  const structs = new Map();
  const sliceTypes = new Set();
  const aliases = new Map(); // a type defined as another package's struct: name → [import path, name]
  const files = readdirSync(dir).filter(
    (f) =>
      f.endsWith('.go') &&
      !f.endsWith('_test.go') &&
      !f.startsWith('zz_generated') &&
      f !== 'generated.pb.go' &&
      f !== 'types_swagger_doc_generated.go',
  );
  for (const f of files.sort()) {
    const lines = readFileSync(path.join(dir, f), 'utf8').split('\n');
    const imports = new Map();
    for (const m of readFileSync(path.join(dir, f), 'utf8').matchAll(
      /^\s*(?:import\s+)?(\w+)?\s*"([\w./-]+)"\s*$/gm,
    )) {
      imports.set(m[1] ?? m[2].split('/').pop(), m[2]);
    }
    let current;
    for (const line of lines) {
      const alias = /^type\s+(\w+)\s+(\w+)\.(\w+)\s*$/.exec(line);
      if (alias && imports.has(alias[2])) aliases.set(alias[1], [imports.get(alias[2]), alias[3]]);
      const slice = /^type\s+(\w+)\s+\[\]/.exec(line);
      if (slice) sliceTypes.add(slice[1]);
      const start = /^type\s+(\w+)\s+struct\s*\{\s*(\})?/.exec(line);
      if (start) {
        current = new Map();
        structs.set(start[1], current);
        if (start[2]) current = undefined;
        continue;
      }
      if (current === undefined) continue;
      if (/^\}/.test(line)) {
        current = undefined;
        continue;
      }
      const field = /^\s*(?:([A-Za-z_]\w*)\s+)?(\S+)\s*`([^`]*)`/.exec(line);
      if (!field) continue;
      const [, goName, goType, tags] = field;
      const proto = /protobuf:"([^"]*)"/.exec(tags)?.[1];
      if (!proto || proto === '-') continue;
      const number = Number(proto.split(',')[1]);
      const json = /json:"([^"]*)"/.exec(tags)?.[1] ?? '';
      const [jsonName = '', ...opts] = json.split(',');
      current.set(number, {
        goName: goName ?? goType.replace(/^\*/, '').replace(/^\w+\./, ''),
        jsonName,
        inline: jsonName === '' && opts.includes('inline'),
        omitempty: opts.includes('omitempty') || opts.includes('omitzero'),
        pointer: goType.startsWith('*'),
        hidden: jsonName === '-',
      });
    }
  }
  return { structs, sliceTypes, aliases };
}

const goPackages = new Map();
function goPackage(dir) {
  let go = goPackages.get(dir);
  if (go === undefined) {
    go = parseGo(dir);
    goPackages.set(dir, go);
  }
  return go;
}

/** The Go struct behind a message name in a package, following `type X otherpkg.Y` definitions. */
function goStruct(dir, name) {
  const go = goPackage(dir);
  const struct = go.structs.get(name);
  if (struct) return struct;
  const alias = go.aliases.get(name);
  if (!alias) return undefined;
  const [importPath, target] = alias;
  const m = /^k8s\.io\/(api|apimachinery)\/(.*)$/.exec(importPath);
  return m ? goStruct(path.join(m[1] === 'api' ? apiDir : machineryDir, m[2]), target) : undefined;
}

/** The k8s.io/api group of a package directory: doc.go's +groupName, else the directory's first part. */
function groupOf(dir, fallback) {
  const doc = path.join(dir, 'doc.go');
  const m = existsSync(doc) ? /\+groupName=([\w.-]*)/.exec(readFileSync(doc, 'utf8')) : null;
  return m ? m[1] : fallback;
}

const packages = []; // {pkg, short, dir, group?}
for (const [pkg, [rel, short]] of Object.entries(machineryPackages)) {
  packages.push({ pkg, short, dir: path.join(machineryDir, rel) });
}
const groups = {};
for (const rel of servedPackages()) {
  const dir = path.join(apiDir, rel);
  if (!existsSync(path.join(dir, 'generated.proto'))) {
    console.warn(`skipping ${rel}: no generated.proto in ${apiDir}`);
    continue;
  }
  const [groupDir] = rel.split('/');
  const short = rel.replace('/', '.');
  packages.push({ pkg: `k8s.io.api.${short}`, short, dir });
  groups[groupOf(dir, groupDir)] = groupDir;
}
groups['meta.k8s.io'] = 'meta';
const shortOfPkg = new Map(packages.map((p) => [p.pkg, p.short]));

const scalars = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float']);
function typeName(protoType, pkg, where) {
  if (scalars.has(protoType)) return protoType;
  const full = protoType.startsWith('.') ? protoType.slice(1) : `${pkg}.${protoType}`;
  const dot = full.lastIndexOf('.');
  const short = shortOfPkg.get(full.slice(0, dot));
  if (short === undefined) throw new Error(`${where}: type ${protoType} is in a package we do not take`);
  return `${short}.${full.slice(dot + 1)}`;
}

const table = new Map();
for (const { pkg, short, dir } of packages) {
  const proto = parseProto(path.join(dir, 'generated.proto'));
  if (proto.pkg !== pkg) throw new Error(`${dir}: package ${proto.pkg}, expected ${pkg}`);
  const go = goPackage(dir);
  for (const [name, fields] of proto.messages) {
    const full = `${short}.${name}`;
    if (skipped.has(full)) continue;
    if (special[full]) {
      table.set(full, special[full]);
      continue;
    }
    if (go.sliceTypes.has(name)) {
      const [only] = fields;
      if (fields.length !== 1 || only.label !== 'repeated' || only.number !== 1) {
        throw new Error(`${full}: a named slice type should be a message with one repeated field 1`);
      }
      table.set(full, `[]${typeName(only.type, pkg, full)}`);
      continue;
    }
    const struct = goStruct(dir, name);
    if (!struct) throw new Error(`${full}: no Go struct ${name} in ${dir}`);
    const entries = [];
    for (const f of fields) {
      const g = struct.get(f.number);
      if (!g) throw new Error(`${full}: no Go field with protobuf number ${f.number} (${f.protoName})`);
      if (g.hidden) continue;
      if (g.jsonName === '' && !g.inline) throw new Error(`${full}.${g.goName}: no JSON name`);
      let type = typeName(f.type, pkg, full);
      if (f.label === 'repeated') type = `[]${type}`;
      else if (f.label === 'map') type = `map[${typeName(f.keyType, pkg, full)}]${type}`;
      else if (g.pointer) type = `*${type}`;
      entries.push({
        order: [...struct.keys()].indexOf(f.number),
        text: `${g.jsonName}${g.omitempty ? '?' : ''}=${f.number}:${type}`,
      });
    }
    // Go's JSON writes fields in struct order, so the table keeps that order.
    entries.sort((a, b) => a.order - b.order);
    table.set(full, entries.map((e) => e.text).join(' '));
  }
}

// Keep only what the API's messages can reach, so that unused apimachinery messages stay out.
const reachable = new Set();
const visit = (name) => {
  if (reachable.has(name)) return;
  const spec = table.get(name);
  if (spec === undefined) throw new Error(`message ${name} is referenced but not in the table`);
  reachable.add(name);
  if (spec === '' || spec.startsWith('@')) return;
  for (const field of spec.split(' ')) {
    const type = field.slice(field.indexOf(':') + 1).replace(/^(\*|\[\]|map\[\w+\])/, '');
    if (!scalars.has(type)) visit(type);
  }
};
const apiShorts = new Set(packages.filter((p) => p.pkg.startsWith('k8s.io.api.')).map((p) => p.short));
for (const name of table.keys()) if (apiShorts.has(name.slice(0, name.lastIndexOf('.')))) visit(name);
// The metav1 kinds that every group-version registers, and those the API server answers with.
const metaKinds = [
  'Status',
  'DeleteOptions',
  'CreateOptions',
  'UpdateOptions',
  'PatchOptions',
  'GetOptions',
  'ListOptions',
  'WatchEvent',
  'Table',
  'PartialObjectMetadata',
  'PartialObjectMetadataList',
  'APIGroup',
  'APIGroupList',
  'APIResourceList',
  'APIVersions',
];
for (const kind of metaKinds) if (table.has(`meta.v1.${kind}`)) visit(`meta.v1.${kind}`);

const names = [...reachable].sort();
const kinds = [...servedKinds()].filter((k) => reachable.has(k)).sort();
const q = (s) => `'${s}'`;
const out = [
  `// Generated by scripts/gen-protobuf.mjs from k8s.io/api and k8s.io/apimachinery ${fromRef}; do not edit.`,
  '// Each message lists its fields in Go struct order as "json=number:type": json is the JSON name (empty when',
  '// the field is inlined into its parent), "?" after it marks omitempty, and type is a protobuf scalar or a',
  '// message, prefixed by "*" for a Go pointer, "[]" for repeated, or "map[K]" for a map. A value starting',
  '// with "@" names a message with its own JSON form; a bare "[]T" is a named Go slice wrapped in a message.',
  '',
  "/** Upstream's protobuf messages for the API types, the package of each API group, and which messages are kinds. */",
  'export const messageTable: { groups: Record<string, string>; kinds: string[]; messages: Record<string, string> } = {',
  '  groups: {',
  ...Object.keys(groups)
    .sort()
    .map((g) => `    ${q(g)}: ${q(groups[g])},`),
  '  },',
  '  kinds: [',
  ...kinds.map((k) => `    ${q(k)},`),
  '  ],',
  '  messages: {',
  ...names.map((n) => `    ${q(n)}:\n      ${q(table.get(n))},`),
  '  },',
  '};',
  '',
];
// Format as the repository does, so that the checked-in file passes `prettier --check`.
const prettier = await import('prettier');
const options = (await prettier.resolveConfig(outFile)) ?? {};
writeFileSync(outFile, await prettier.format(out.join('\n'), { ...options, filepath: outFile }));
console.log(`wrote ${names.length} messages to ${path.relative(root, outFile)}`);
