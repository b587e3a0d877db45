// Endpoints (core defaulting and validation): each subset has addresses, each address a usable IP, each
// port a number and a protocol (TCP by default), and a name when there are several.
import type { EndpointAddress, EndpointPort, Endpoints } from 'kubernetes-types/core/v1.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { isValidPortNum, nameIsDNSSubdomain } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { isValidIP, validateNonSpecialIP } from './ip-validation.js';
import {
  baseStrategy,
  supportedPortProtocols,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
  validateDNS1123Label,
  validateQualifiedName,
} from './kube-validation.js';

function validateAddress(a: EndpointAddress, path: Path): ErrorList {
  const errs = isValidIP(path.child('ip'), a.ip ?? '');
  if (a.hostname) errs.push(...validateDNS1123Label(a.hostname, path.child('hostname')));
  if (a.nodeName !== undefined && a.nodeName !== null) {
    for (const msg of nameIsDNSSubdomain(a.nodeName, false)) {
      errs.push(field.invalid(path.child('nodeName'), a.nodeName, msg).withOrigin('format=dns-label'));
    }
  }
  errs.push(...validateNonSpecialIP(a.ip ?? '', path.child('ip')));
  return errs;
}

function validatePort(p: EndpointPort, requireName: boolean, path: Path): ErrorList {
  const errs: ErrorList = [];
  const name = p.name ?? '';
  if (requireName && name === '') errs.push(field.required(path.child('name'), ''));
  else if (name !== '') errs.push(...validateDNS1123Label(name, path.child('name')));
  for (const msg of isValidPortNum(p.port ?? 0))
    errs.push(field.invalid(path.child('port'), p.port ?? 0, msg).withOrigin('portNum'));
  if (!p.protocol) errs.push(field.required(path.child('protocol'), ''));
  else if (!supportedPortProtocols.includes(p.protocol))
    errs.push(field.notSupported(path.child('protocol'), p.protocol, supportedPortProtocols));
  if (p.appProtocol !== undefined)
    errs.push(...validateQualifiedName(p.appProtocol, path.child('appProtocol')));
  return errs;
}

function validateEndpoints(obj: KObject): ErrorList {
  const errs = validateCoreObjectMeta(obj, true, nameIsDNSSubdomain);
  (typed<Endpoints>(obj).subsets ?? []).forEach((ss, i) => {
    const p = newPath('subsets').index(i);
    if ((ss.addresses ?? []).length === 0 && (ss.notReadyAddresses ?? []).length === 0) {
      errs.push(field.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    (ss.addresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, p.child('addresses').index(j))));
    (ss.notReadyAddresses ?? []).forEach((a, j) =>
      errs.push(...validateAddress(a, p.child('notReadyAddresses').index(j))),
    );
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => errs.push(...validatePort(port, ports.length > 1, p.child('ports').index(j))));
  });
  return errs;
}

/** The strategy of core/v1 endpoints. */
export const endpointsStrategy: ResourceStrategy = {
  ...baseStrategy('', 'v1', 'endpoints'),
  defaults(obj) {
    for (const ss of typed<Endpoints>(obj).subsets ?? [])
      for (const p of ss.ports ?? []) if (!p.protocol) p.protocol = 'TCP';
  },
  validate: validateEndpoints,
  validateUpdate: (obj, old) => [...validateCoreObjectMetaUpdate(obj, old), ...validateEndpoints(obj)],
};
