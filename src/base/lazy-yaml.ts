// The yaml package, loaded on first use. Loading it costs a server start some 20 ms, and most starts never
// parse or write YAML before they are ready (YAML request bodies, kubeconfig files and /openapi/v2 come later,
// if at all). Its CommonJS build loads synchronously, so callers stay synchronous.
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

/** The yaml module (parse, stringify, parseAllDocuments, ...). */
export function yaml(): typeof Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return loaded;
}
