// Values that upstream's validation messages print with Go's %#v: label selectors, IntOrString fields and
// string maps. kubectl users read these texts (`Invalid value: v1.LabelSelector{...}: field is immutable`), so
// the registry spells them out the same way.
import { goQuote, goStringSlice } from '../../api/go-quote.js';
import { GoValue } from '../../apimachinery/validation/field-errors.js';

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A metav1.LabelSelector as JSON holds it. */
export interface SelectorJSON {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: { key: string; operator: string; values?: string[] | null }[] | null;
}

/** A map[string]string as %#v prints it: keys sorted, `map[string]string(nil)` for a missing map. */
export function goStringMap(m: Readonly<Record<string, string>> | null | undefined): GoValue {
  if (m === null || m === undefined) return new GoValue('map[string]string(nil)');
  const body = Object.keys(m)
    .sort(byteOrder)
    .map((k) => `${goQuote(k)}:${goQuote(m[k] ?? '')}`)
    .join(', ');
  return new GoValue(`map[string]string{${body}}`);
}

/** A metav1.LabelSelector as %#v prints it (the pointer dereferenced, as field errors do). */
export function goLabelSelector(sel: SelectorJSON | null | undefined): GoValue {
  if (sel === null || sel === undefined) return new GoValue('null');
  const exprs = sel.matchExpressions;
  const exprText =
    exprs === null || exprs === undefined
      ? '[]v1.LabelSelectorRequirement(nil)'
      : `[]v1.LabelSelectorRequirement{${exprs
          .map(
            (e) =>
              `v1.LabelSelectorRequirement{Key:${goQuote(e.key ?? '')}, Operator:${goQuote(e.operator ?? '')}, ` +
              `Values:${goStringSlice(e.values ?? null)}}`,
          )
          .join(', ')}}`;
  return new GoValue(`v1.LabelSelector{MatchLabels:${goStringMap(sel.matchLabels).text}, MatchExpressions:${exprText}}`);
}

/** An intstr.IntOrString as %#v prints it: `intstr.IntOrString{Type:1, IntVal:0, StrVal:"25%"}`. */
export function goIntOrString(v: number | string | null | undefined): GoValue {
  if (typeof v === 'string') return new GoValue(`intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`);
  return new GoValue(`intstr.IntOrString{Type:0, IntVal:${Math.trunc(v ?? 0)}, StrVal:""}`);
}
