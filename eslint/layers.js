// A local ESLint rule that enforces the import arrows of docs/ARCHITECTURE.md: each folder under src/ is a
// layer, and a layer may import only the layers listed for it below. Test files (*.test.ts), benchmarks and
// scripts may import anything.
import path from 'node:path';

/** Which layers each layer may import (besides itself). */
export const allowedImports = {
  base: [],
  api: ['base'],
  apimachinery: ['base', 'api'],
  storage: ['base', 'api', 'apimachinery'],
  registry: ['base', 'api', 'apimachinery', 'storage'],
  apiserver: ['base', 'api', 'apimachinery', 'storage', 'registry'],
  client: ['base', 'api', 'apimachinery'],
  controllers: ['base', 'api', 'apimachinery', 'client'],
  scheduler: ['base', 'api', 'apimachinery', 'client'],
  kubelet: ['base', 'api', 'apimachinery', 'client', 'cri'],
  cri: ['base', 'api', 'apimachinery'],
  runtime: ['base', 'api', 'apimachinery', 'cri'],
  proxy: ['base', 'api', 'apimachinery', 'client'],
  dns: ['base', 'api', 'apimachinery', 'client'],
  cloud: ['base', 'api', 'apimachinery', 'client'],
  cli: null, // the composition root: may import every layer
};

const srcRoot = path.resolve(import.meta.dirname, '..', 'src');

function layerOf(file) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep)[0];
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the import arrows between the layers under src/' },
    schema: [],
    messages: {
      unknownLayer: "'{{layer}}' is not a known layer: add it to eslint/layers.js and docs/ARCHITECTURE.md",
      forbidden: "layer '{{from}}' may not import layer '{{to}}' (allowed: {{allowed}})",
    },
  },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    // Unit tests sit beside the code they test but may start whatever they test against (a real API server).
    if (from === undefined || from.endsWith('.ts') || file.endsWith('.test.ts')) return {};
    if (!(from in allowedImports)) {
      return {
        Program(node) {
          context.report({ node, messageId: 'unknownLayer', data: { layer: from } });
        },
      };
    }
    const allowed = allowedImports[from];
    const check = (node, source) => {
      if (allowed === null || typeof source !== 'string' || !source.startsWith('.')) return;
      const to = layerOf(path.resolve(path.dirname(file), source));
      if (to === undefined || to === from || allowed.includes(to)) return;
      context.report({ node, messageId: 'forbidden', data: { from, to, allowed: allowed.join(', ') || 'none' } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export default { rules: { 'import-arrows': rule } };
