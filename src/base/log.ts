// Structured logs: one JSON object a line on stderr, each with its component's name. Verbosity follows
// Kubernetes' --v convention: info lines carry a level, and only levels up to the configured one print.

/** Fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A component's logger. */
export interface Logger {
  /** Logs at verbosity `v` (0: always shown). */
  info(msg: string, fields?: LogFields, v?: number): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields`, e.g. a child component name. */
  with(fields: LogFields): Logger;
}

interface LogSettings {
  verbosity: number;
  write: (line: string) => void;
}

const settings: LogSettings = {
  verbosity: 0,
  write: (line) => process.stderr.write(line + '\n'),
};

/** Sets the process-wide verbosity (--v) and, for tests, where lines go. */
export function configureLogging(options: { verbosity?: number; write?: (line: string) => void }): void {
  if (options.verbosity !== undefined) settings.verbosity = options.verbosity;
  if (options.write !== undefined) settings.write = options.write;
}

function errorFields(fields: LogFields | undefined): LogFields | undefined {
  if (!fields) return fields;
  let out: LogFields | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) {
      out ??= { ...fields };
      out[k] = v.message;
    }
  }
  return out ?? fields;
}

/** A logger for one component ("apiserver", "store", "kubelet", ...). */
export function logger(component: string, base: LogFields = {}): Logger {
  const emit = (level: string, msg: string, fields?: LogFields): void => {
    settings.write(JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...base, ...errorFields(fields) }));
  };
  return {
    info: (msg, fields, v = 0) => {
      if (v <= settings.verbosity) emit('info', msg, fields);
    },
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    with: (fields) => logger(component, { ...base, ...fields }),
  };
}
