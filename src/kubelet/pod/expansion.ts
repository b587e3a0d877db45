// $(VAR) expansion in env values, command and args, with the semantics of upstream's forked Go expansion
// package: $(NAME) is replaced when NAME is known and left as written otherwise; $$ is an escaped $; a $
// followed by anything else, or an unclosed $(, stays as it is.

/** A lookup for expansion: the value, or undefined when the name is unknown. */
export type Mapping = (name: string) => string | undefined;

/** Looks names up in each map in turn; unknown names expand to themselves, $(NAME). */
export function mappingFor(...maps: ReadonlyMap<string, string>[]): (name: string) => string {
  return (name) => {
    for (const m of maps) {
      const v = m.get(name);
      if (v !== undefined) return v;
    }
    return `$(${name})`;
  };
}

/** Expands $(VAR) references in `input`. */
export function expand(input: string, mapping: (name: string) => string): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close >= 0) {
        out += mapping(rest.slice(1, close));
        advance = close + 1;
      } else {
        out += '$(';
      }
    } else {
      out += '$' + rest[0];
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
