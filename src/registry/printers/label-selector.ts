// Labels and label selectors written as upstream's printers write them: keys sorted, `k=v` pairs joined
// by commas, set-based requirements as `k in (a,b)`, `k notin (a)`, `k`, `!k`.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

/** A label map as `a=1,b=2` (sorted by key), or `<none>` when empty. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const text = Object.keys(labels ?? {})
    .sort()
    .map((k) => `${k}=${labels?.[k] ?? ''}`)
    .join(',');
  return text === '' ? '<none>' : text;
}

const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validKey(key: string): boolean {
  const parts = key.split('/');
  const name = parts.length === 2 ? parts[1] : parts[0];
  if (parts.length > 2 || name === undefined || name.length > 63 || !labelName.test(name)) return false;
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    return prefix.length > 0 && prefix.length <= 253 && dnsSubdomain.test(prefix);
  }
  return true;
}

function validValue(value: string): boolean {
  return value.length <= 63 && labelValue.test(value);
}

interface Requirement {
  key: string;
  text: string;
}

/**
 * A LabelSelector as its selector string, or undefined when it is invalid. An absent selector selects
 * nothing and an empty one everything; both print as the empty string.
 */
export function labelSelectorString(selector: LabelSelector | undefined): string | undefined {
  if (!selector) return '';
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!validKey(key) || !validValue(value)) return undefined;
    requirements.push({ key, text: `${key}=${value}` });
  }
  for (const expr of selector.matchExpressions ?? []) {
    const values = expr.values ?? [];
    if (!validKey(expr.key)) return undefined;
    // Values print sorted, whatever order the object lists them in.
    const list = [...values].sort().join(',');
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0 || !values.every(validValue)) return undefined;
        requirements.push({ key: expr.key, text: `${expr.key} ${expr.operator.toLowerCase()} (${list})` });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length !== 0) return undefined;
        requirements.push({ key: expr.key, text: expr.operator === 'Exists' ? expr.key : `!${expr.key}` });
        break;
      default:
        return undefined;
    }
  }
  // Requirements are ordered by key; a stable sort keeps the object's order for repeated keys.
  requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return requirements.map((r) => r.text).join(',');
}

/** A LabelSelector for a table cell: `<none>` when it selects everything or nothing, `<error>` if invalid. */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
  const text = labelSelectorString(selector);
  if (text === undefined) return '<error>';
  return text === '' ? '<none>' : text;
}
