// Loads the OpenAPI documents that scripts/gen-openapi.mjs derives from upstream's specs. They stay JSON
// files beside this module's source (src/api/openapi/v2.json, v3/*.json) and are read at run time, lazily and
// once each: kept as .ts modules they would cost the type checker and linter megabytes of literals on every
// run, and the server wants the exact bytes anyway (it serves them and hashes them for the /openapi/v3 index).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIV3Document, SwaggerDocument } from './types.js';

const v3Suffix = '.json';

/**
 * Where the documents are: beside this module when something copied them there (a bundle, a future build
 * step), otherwise in src/api/openapi under the package root. From src/api/openapi/*.ts under tsx and from
 * dist/api/openapi/*.js after tsc, the package root is three levels up, so one rule serves both.
 */
function defaultDirectory(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [here, path.resolve(here, '..', '..', '..', 'src', 'api', 'openapi')];
  for (const dir of candidates) if (existsSync(path.join(dir, 'v2.json'))) return dir;
  throw new Error(
    `OpenAPI documents not found (looked in ${candidates.join(', ')}); run node scripts/gen-openapi.mjs`,
  );
}

/** The group-version path ("api/v1", "apis/apps/v1") of a v3 file name ("apis__apps__v1.json"). */
function pathOfFile(file: string): string {
  return file.slice(0, -v3Suffix.length).split('__').join('/');
}

/** Our OpenAPI v3 documents (one per group-version) and v2 document, read from disk on first use. */
export class OpenAPISpecs {
  readonly directory: string;
  private v3Files: Map<string, string> | undefined;
  private readonly texts = new Map<string, string>();
  private readonly parsed = new Map<string, unknown>();
  private static builtinSpecs: OpenAPISpecs | undefined;

  constructor(directory: string) {
    this.directory = directory;
  }

  /** The documents generated into this package. */
  static builtin(): OpenAPISpecs {
    OpenAPISpecs.builtinSpecs ??= new OpenAPISpecs(defaultDirectory());
    return OpenAPISpecs.builtinSpecs;
  }

  /** The group-version paths with a v3 document, sorted: "api/v1", "apis/apps/v1", ... */
  v3Paths(): string[] {
    return [...this.files().keys()];
  }

  /** The v3 document of a group-version path as its JSON text, or undefined if we have none. */
  v3Text(groupVersionPath: string): string | undefined {
    const file = this.files().get(groupVersionPath);
    return file === undefined ? undefined : this.read(path.join('v3', file));
  }

  /** The v3 document of a group-version path, or undefined if we have none. Callers must not mutate it. */
  v3(groupVersionPath: string): OpenAPIV3Document | undefined {
    const file = this.files().get(groupVersionPath);
    return file === undefined ? undefined : (this.parse(path.join('v3', file)) as OpenAPIV3Document);
  }

  /** Every v3 document, in the order of v3Paths(). */
  allV3(): OpenAPIV3Document[] {
    return this.v3Paths().map((p) => this.v3(p) as OpenAPIV3Document);
  }

  /** The v2 (Swagger 2.0) document as JSON text. */
  v2Text(): string {
    return this.read('v2.json');
  }

  /** The v2 (Swagger 2.0) document. Callers must not mutate it. */
  v2(): SwaggerDocument {
    return this.parse('v2.json') as SwaggerDocument;
  }

  private files(): Map<string, string> {
    if (this.v3Files === undefined) {
      const names = readdirSync(path.join(this.directory, 'v3'))
        .filter((f) => f.endsWith(v3Suffix))
        .sort();
      this.v3Files = new Map(names.map((f) => [pathOfFile(f), f]));
    }
    return this.v3Files;
  }

  private read(rel: string): string {
    let text = this.texts.get(rel);
    if (text === undefined) {
      text = readFileSync(path.join(this.directory, rel), 'utf8');
      this.texts.set(rel, text);
    }
    return text;
  }

  private parse(rel: string): unknown {
    let doc = this.parsed.get(rel);
    if (doc === undefined) {
      doc = JSON.parse(this.read(rel)) as unknown;
      this.parsed.set(rel, doc);
    }
    return doc;
  }
}
