// Ingresses (networking validation and the ingress strategy): rules or a default backend, hosts that are
// DNS names (one leading wildcard allowed), paths by path type, and backends naming a Service port or a
// resource.
import type { HTTPIngressPath, Ingress, IngressBackend } from 'kubernetes-types/networking/v1.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import {
  isDNS1123Subdomain,
  isValidPathSegmentName,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNS1035Label,
  nameIsDNSSubdomain,
} from '../../apimachinery/validation/names.js';
import { parseIPSloppy } from '../core/ip-validation.js';
import {
  baseStrategy,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
  validateDNS1123Subdomain,
} from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

const annotationIngressClass = 'kubernetes.io/ingress.class';
const supportedPathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];
const invalidPathSequences = ['//', '/./', '/../', '%2f', '%2F'];
const invalidPathSuffixes = ['/..', '/.'];

interface IngressOptions {
  allowInvalidSecretName: boolean;
  allowInvalidWildcardHostRule: boolean;
}

function validateBackend(b: IngressBackend, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (b.resource !== undefined && b.service !== undefined)
    return [field.invalid(path, '', 'cannot set both resource and service backends')];
  if (b.resource !== undefined) {
    const r = b.resource;
    const p = path.child('resource');
    if (r.apiGroup !== undefined)
      for (const msg of isDNS1123Subdomain(r.apiGroup))
        errs.push(field.invalid(p.child('apiGroup'), r.apiGroup, msg));
    if (!r.kind) errs.push(field.required(p.child('kind'), ''));
    else
      for (const msg of isValidPathSegmentName(r.kind))
        errs.push(field.invalid(p.child('kind'), r.kind, msg));
    if (!r.name) errs.push(field.required(p.child('name'), ''));
    else
      for (const msg of isValidPathSegmentName(r.name))
        errs.push(field.invalid(p.child('name'), r.name, msg));
    return errs;
  }
  if (b.service !== undefined) {
    const svc = b.service;
    if (!svc.name) errs.push(field.required(path.child('service', 'name'), ''));
    else
      for (const msg of nameIsDNS1035Label(svc.name, false))
        errs.push(field.invalid(path.child('service', 'name'), svc.name, msg));
    const portName = svc.port?.name ?? '';
    const portNumber = svc.port?.number ?? 0;
    if (portName !== '' && portNumber !== 0)
      errs.push(field.invalid(path, '', 'cannot set both port name & port number'));
    else if (portName !== '')
      for (const msg of isValidPortName(portName))
        errs.push(field.invalid(path.child('service', 'port', 'name'), portName, msg));
    else if (portNumber !== 0)
      for (const msg of isValidPortNum(portNumber))
        errs.push(field.invalid(path.child('service', 'port', 'number'), portNumber, msg));
    else errs.push(field.required(path, 'port name or number is required'));
    return errs;
  }
  return [field.invalid(path, '', 'resource or service backend is required')];
}

function validatePath(p: HTTPIngressPath, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (p.pathType === undefined) return [field.required(path.child('pathType'), 'pathType must be specified')];
  const text = p.path ?? '';
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!text.startsWith('/'))
        errs.push(field.invalid(path.child('path'), text, 'must be an absolute path'));
      if (text.length > 0) {
        for (const seq of invalidPathSequences)
          if (text.includes(seq))
            errs.push(field.invalid(path.child('path'), text, `must not contain '${seq}'`));
        for (const suf of invalidPathSuffixes)
          if (text.endsWith(suf))
            errs.push(field.invalid(path.child('path'), text, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (text.length > 0 && !text.startsWith('/'))
        errs.push(field.invalid(path.child('path'), text, 'must be an absolute path'));
      break;
    default:
      errs.push(field.notSupported(path.child('pathType'), p.pathType, supportedPathTypes));
  }
  errs.push(...validateBackend(p.backend, path.child('backend')));
  return errs;
}

function validateRuleValue(
  http: NonNullable<NonNullable<Ingress['spec']>['rules']>[number]['http'],
  path: Path,
): ErrorList {
  if (http === undefined) return [];
  const errs: ErrorList = [];
  if ((http.paths ?? []).length === 0) errs.push(field.required(path.child('http', 'paths'), ''));
  (http.paths ?? []).forEach((p, i) => errs.push(...validatePath(p, path.child('http', 'paths').index(i))));
  return errs;
}

function validateSpec(ing: Ingress, opts: IngressOptions): ErrorList {
  const spec = ing.spec ?? {};
  const path = newPath('spec');
  const errs: ErrorList = [];
  const rules = spec.rules ?? [];
  if (rules.length === 0 && spec.defaultBackend === undefined) {
    errs.push(
      field.invalid(
        path,
        new GoValue(
          spec.rules === undefined ? '[]networking.IngressRule(nil)' : '[]networking.IngressRule{}',
        ),
        'either `defaultBackend` or `rules` must be specified',
      ),
    );
  }
  if (spec.defaultBackend !== undefined)
    errs.push(...validateBackend(spec.defaultBackend, path.child('defaultBackend')));
  rules.forEach((rule, i) => {
    const p = path.child('rules').index(i);
    let wildcard = false;
    const host = rule.host ?? '';
    if (host.length > 0) {
      if (parseIPSloppy(host) !== undefined)
        errs.push(field.invalid(p.child('host'), host, 'must be a DNS name, not an IP address'));
      if (host.includes('*')) {
        for (const msg of isWildcardDNS1123Subdomain(host))
          errs.push(field.invalid(p.child('host'), host, msg));
        wildcard = true;
      } else {
        errs.push(...validateDNS1123Subdomain(host, p.child('host')));
      }
    }
    if (!wildcard || !opts.allowInvalidWildcardHostRule) errs.push(...validateRuleValue(rule.http, p));
  });
  (spec.tls ?? []).forEach((tls, i) => {
    const p = path.child('tls').index(i);
    (tls.hosts ?? []).forEach((host, j) => {
      const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
      for (const msg of msgs) errs.push(field.invalid(p.child('hosts').index(j), host, msg));
    });
    if (!opts.allowInvalidSecretName && tls.secretName) {
      for (const msg of nameIsDNSSubdomain(tls.secretName, false))
        errs.push(field.invalid(p.child('secretName'), tls.secretName, msg));
    }
  });
  if (spec.ingressClassName !== undefined) {
    for (const msg of nameIsDNSSubdomain(spec.ingressClassName, false))
      errs.push(field.invalid(path.child('ingressClassName'), spec.ingressClassName, msg));
  }
  return errs;
}

function validateStatus(ing: Ingress): ErrorList {
  const errs: ErrorList = [];
  (ing.status?.loadBalancer?.ingress ?? []).forEach((entry, i) => {
    const p = newPath('status', 'loadBalancer', 'ingress').index(i);
    if (entry.ip && parseIPSloppy(entry.ip) === undefined) {
      errs.push(
        field.invalid(
          p.child('ip'),
          entry.ip,
          'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
        ),
      );
    }
    if (entry.hostname) {
      errs.push(...validateDNS1123Subdomain(entry.hostname, p.child('hostname')));
      if (parseIPSloppy(entry.hostname) !== undefined)
        errs.push(
          field.invalid(p.child('hostname'), entry.hostname, 'must be a DNS name, not an IP address'),
        );
    }
  });
  return errs;
}

function hadInvalidSecretName(old: Ingress): boolean {
  return (old.spec?.tls ?? []).some(
    (t) => !!t.secretName && nameIsDNSSubdomain(t.secretName, false).length > 0,
  );
}

function hadInvalidWildcardRule(old: Ingress): boolean {
  return (old.spec?.rules ?? []).some(
    (r) => (r.host ?? '').includes('*') && validateRuleValue(r.http, newPath('spec')).length > 0,
  );
}

/** The strategy of networking.k8s.io/v1 ingresses. */
export const ingressStrategy: ResourceStrategy = {
  ...baseStrategy('networking.k8s.io', 'v1', 'ingresses'),
  prepareForCreate(obj: KObject) {
    obj.status = { loadBalancer: {} };
  },
  validate(obj) {
    const ing = typed<Ingress>(obj);
    const errs = [
      ...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain),
      ...validateSpec(ing, { allowInvalidSecretName: false, allowInvalidWildcardHostRule: false }),
    ];
    const annotation = ing.metadata?.annotations?.[annotationIngressClass];
    if (
      annotation !== undefined &&
      ing.spec?.ingressClassName !== undefined &&
      annotation !== ing.spec.ingressClassName
    ) {
      errs.push(
        field.invalid(
          newPath('annotations').child(annotationIngressClass),
          annotation,
          'must match `ingressClassName` when both are specified',
        ),
      );
    }
    return errs;
  },
  validateUpdate(obj, old) {
    const ing = typed<Ingress>(obj);
    const prev = typed<Ingress>(old);
    const opts = {
      allowInvalidSecretName: hadInvalidSecretName(prev),
      allowInvalidWildcardHostRule: hadInvalidWildcardRule(prev),
    };
    return [
      ...validateCoreObjectMetaUpdate(obj, old),
      ...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain),
      ...validateSpec(ing, opts),
      ...validateStatus(ing),
    ];
  },
};
