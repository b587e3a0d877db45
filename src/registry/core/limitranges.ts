// LimitRanges (core defaulting and validation): Container limits default from max, requests from the
// default limit or from min; min <= default request <= default <= max, and ratios of at least 1.
import type { LimitRange, LimitRangeItem } from 'kubernetes-types/core/v1.js';
import type { Quantity } from '../../api/quantity.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { isQualifiedName, nameIsDNSSubdomain } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import {
  baseStrategy,
  byteOrder,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from './kube-validation.js';
import {
  canonicalizeResourceList,
  isOvercommitAllowed,
  parseQuantityField,
  validateContainerResourceName,
  validateResourceName,
} from './resource-lists.js';

const standardLimitTypes = new Set(['Pod', 'Container', 'PersistentVolumeClaim']);
const maxMilliValue = (1n << 63n) / 1000n;

function setItemDefaults(item: LimitRangeItem): void {
  if (item.type !== 'Container') return;
  const def: Record<string, string> = { ...item.default };
  const defReq: Record<string, string> = { ...item.defaultRequest };
  for (const [k, v] of Object.entries(item.max ?? {})) def[k] ??= v;
  for (const [k, v] of Object.entries(def)) defReq[k] ??= v;
  for (const [k, v] of Object.entries(item.min ?? {})) defReq[k] ??= v;
  // Empty maps are omitted from JSON, so only non-empty ones appear.
  if (Object.keys(def).length > 0) item.default = def;
  if (Object.keys(defReq).length > 0) item.defaultRequest = defReq;
}

function validateTypeName(type: string, path: Path): ErrorList {
  const errs = isQualifiedName(type).map((msg) => field.invalid(path, type, msg));
  if (errs.length > 0) return errs;
  if (!type.includes('/') && !standardLimitTypes.has(type))
    return [field.invalid(path, type, 'must be a standard limit type or fully qualified')];
  return [];
}

const resourceNameFor = (type: string) =>
  type === 'Pod' || type === 'Container' ? validateContainerResourceName : validateResourceName;

// Go's %f: six digits after the point.
const goFixed = (v: number) => (Number.isFinite(v) ? v.toFixed(6) : v > 0 ? '+Inf' : 'NaN');

function validateItem(item: LimitRangeItem, path: Path, seenTypes: Set<string>): ErrorList {
  const type = item.type ?? '';
  const errs = validateTypeName(type, path.child('type'));
  if (seenTypes.has(type)) errs.push(field.duplicate(path.child('type'), type));
  seenTypes.add(type);
  const nameFn = resourceNameFor(type);
  const keys = new Set<string>();
  const parse = (list: Record<string, string> | undefined, part: string): Map<string, Quantity> => {
    const out = new Map<string, Quantity>();
    for (const k of Object.keys(list ?? {}).sort(byteOrder)) {
      const p = path.child(part).key(k);
      errs.push(...nameFn(k, p));
      keys.add(k);
      const { quantity, errs: parseErrs } = parseQuantityField(list![k], p);
      errs.push(...parseErrs);
      if (quantity !== undefined) out.set(k, quantity);
    }
    return out;
  };
  const max = parse(item.max, 'max');
  const min = parse(item.min, 'min');
  let defaults = new Map<string, Quantity>();
  let defaultRequests = new Map<string, Quantity>();
  if (type === 'Pod') {
    if (Object.keys(item.default ?? {}).length > 0)
      errs.push(field.forbidden(path.child('default'), "may not be specified when `type` is 'Pod'"));
    if (Object.keys(item.defaultRequest ?? {}).length > 0) {
      errs.push(field.forbidden(path.child('defaultRequest'), "may not be specified when `type` is 'Pod'"));
    }
  } else {
    defaults = parse(item.default, 'default');
    defaultRequests = parse(item.defaultRequest, 'defaultRequest');
  }
  if (type === 'PersistentVolumeClaim' && !min.has('storage') && !max.has('storage')) {
    errs.push(
      field.required(
        path.child('limits'),
        'either minimum or maximum storage value is required, but neither was provided',
      ),
    );
  }
  const ratios = parse(item.maxLimitRequestRatio, 'maxLimitRequestRatio');
  for (const k of [...keys].sort(byteOrder)) {
    const mn = min.get(k);
    const mx = max.get(k);
    const df = defaults.get(k);
    const dr = defaultRequests.get(k);
    const ratio = ratios.get(k);
    const s = (q: Quantity) => q.toString();
    if (mn && mx && mn.cmp(mx) > 0)
      errs.push(
        field.invalid(
          path.child('min').key(k),
          s(mn),
          `min value ${s(mn)} is greater than max value ${s(mx)}`,
        ),
      );
    if (dr && mn && mn.cmp(dr) > 0) {
      errs.push(
        field.invalid(
          path.child('defaultRequest').key(k),
          s(dr),
          `min value ${s(mn)} is greater than default request value ${s(dr)}`,
        ),
      );
    }
    if (dr && mx && dr.cmp(mx) > 0) {
      errs.push(
        field.invalid(
          path.child('defaultRequest').key(k),
          s(dr),
          `default request value ${s(dr)} is greater than max value ${s(mx)}`,
        ),
      );
    }
    if (dr && df && dr.cmp(df) > 0) {
      errs.push(
        field.invalid(
          path.child('defaultRequest').key(k),
          s(dr),
          `default request value ${s(dr)} is greater than default limit value ${s(df)}`,
        ),
      );
    }
    if (df && mn && mn.cmp(df) > 0)
      errs.push(
        field.invalid(
          path.child('default').key(k),
          s(mn),
          `min value ${s(mn)} is greater than default value ${s(df)}`,
        ),
      );
    if (df && mx && df.cmp(mx) > 0)
      errs.push(
        field.invalid(
          path.child('default').key(k),
          s(mx),
          `default value ${s(df)} is greater than max value ${s(mx)}`,
        ),
      );
    if (ratio && ratio.cmpInt64(1) < 0)
      errs.push(
        field.invalid(
          path.child('maxLimitRequestRatio').key(k),
          s(ratio),
          `ratio ${s(ratio)} is less than 1`,
        ),
      );
    if (ratio && mn && mx) {
      let ratioValue = Number(ratio.value());
      let minValue = mn.value();
      let maxValue = mx.value();
      if (ratio.value() < maxMilliValue && minValue < maxMilliValue && maxValue < maxMilliValue) {
        ratioValue = Number(ratio.milliValue()) / 1000;
        minValue = mn.milliValue();
        maxValue = mx.milliValue();
      }
      const limit = Number(maxValue) / Number(minValue);
      if (ratioValue > limit) {
        errs.push(
          field.invalid(
            path.child('maxLimitRequestRatio').key(k),
            s(ratio),
            `ratio ${s(ratio)} is greater than max/min = ${goFixed(limit)}`,
          ),
        );
      }
    }
    if (!isOvercommitAllowed(k) && df && dr && df.cmp(dr) !== 0) {
      errs.push(
        field.invalid(
          path.child('defaultRequest').key(k),
          s(dr),
          `default value ${s(df)} must equal to defaultRequest value ${s(dr)} in ${k}`,
        ),
      );
    }
  }
  return errs;
}

function validateLimitRange(obj: KObject): ErrorList {
  const errs = validateCoreObjectMeta(obj, true, nameIsDNSSubdomain);
  const seen = new Set<string>();
  (typed<LimitRange>(obj).spec?.limits ?? []).forEach((item, i) =>
    errs.push(...validateItem(item, newPath('spec', 'limits').index(i), seen)),
  );
  return errs;
}

/** The strategy of core/v1 limitranges. */
export const limitRangeStrategy: ResourceStrategy = {
  ...baseStrategy('', 'v1', 'limitranges'),
  defaults(obj) {
    for (const item of typed<LimitRange>(obj).spec?.limits ?? []) {
      for (const part of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const)
        canonicalizeResourceList(item[part]);
      setItemDefaults(item);
    }
  },
  validate: validateLimitRange,
  validateUpdate: (obj, old) => [...validateCoreObjectMetaUpdate(obj, old), ...validateLimitRange(obj)],
};
