// EndpointSlices (discovery defaulting, pkg/registry/discovery/endpointslice's strategy and validation):
// an address type, at most 1000 endpoints with up to 100 addresses each, and ports with protocols.
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  nameIsDNSSubdomain,
  validateImmutableField,
  validateLabels,
} from '../../apimachinery/validation/names.js';
import {
  isValidIP,
  isValidIPv4Address,
  isValidIPv6Address,
  validateNonSpecialIP,
} from '../core/ip-validation.js';
import {
  baseStrategy,
  semanticEqual,
  supportedPortProtocols,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
  validateDNS1123Label,
} from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

const supportedAddressTypes = ['FQDN', 'IPv4', 'IPv6'];
const maxTopologyLabels = 16;
const maxAddresses = 100;
const maxPorts = 100;
const maxEndpoints = 1000;

/** A fully qualified domain name of at least two labels (apimachinery's IsFullyQualifiedDomainName). */
function validateFQDN(value: string, path: ReturnType<typeof newPath>): ErrorList {
  if (value.length === 0) return [field.required(path, '')];
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const subdomain = isDNS1123Subdomain(name);
  if (subdomain.length > 0) return [field.invalid(path, name, subdomain.join(','))];
  const labels = name.split('.');
  if (labels.length < 2)
    return [field.invalid(path, name, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const errs = isDNS1123Label(label);
    if (errs.length > 0) return [field.invalid(path, label, errs.join(','))];
  }
  return [];
}

function validateEndpointSlice(obj: KObject, validAddressTypes: readonly string[]): ErrorList {
  const slice = typed<EndpointSlice>(obj);
  const errs = validateCoreObjectMeta(obj, true, nameIsDNSSubdomain);
  const addrType = slice.addressType ?? '';
  if (addrType === '') errs.push(field.required(newPath('addressType'), ''));
  else if (!validAddressTypes.includes(addrType))
    errs.push(field.notSupported(newPath('addressType'), addrType, validAddressTypes));
  const endpoints = slice.endpoints ?? [];
  if (endpoints.length > maxEndpoints) {
    errs.push(field.tooMany(newPath('endpoints'), endpoints.length, maxEndpoints));
  } else {
    endpoints.forEach((ep, i) => {
      const p = newPath('endpoints').index(i);
      const addrPath = p.child('addresses');
      const addresses = ep.addresses ?? [];
      if (addresses.length === 0) errs.push(field.required(addrPath, 'must contain at least 1 address'));
      else if (addresses.length > maxAddresses)
        errs.push(field.tooMany(addrPath, addresses.length, maxAddresses));
      addresses.forEach((a, j) => {
        const ap = addrPath.index(j);
        switch (addrType) {
          case 'IP':
            errs.push(...isValidIP(ap, a));
            break;
          case 'IPv4':
            errs.push(...isValidIPv4Address(ap, a), ...validateNonSpecialIP(a, ap));
            break;
          case 'IPv6':
            errs.push(...isValidIPv6Address(ap, a), ...validateNonSpecialIP(a, ap));
            break;
          case 'FQDN':
            errs.push(...validateFQDN(a, ap));
            break;
          default:
            break;
        }
      });
      const topology = (ep as { deprecatedTopology?: Record<string, string> }).deprecatedTopology;
      if (topology !== undefined) {
        const tp = p.child('deprecatedTopology');
        if (Object.keys(topology).length > maxTopologyLabels)
          errs.push(field.tooMany(tp, Object.keys(topology).length, maxTopologyLabels));
        errs.push(...validateLabels(topology, tp));
      }
      if (ep.hostname !== undefined) errs.push(...validateDNS1123Label(ep.hostname, p.child('hostname')));
    });
  }
  const ports = slice.ports ?? [];
  if (ports.length > maxPorts) {
    errs.push(field.tooMany(newPath('ports'), ports.length, maxPorts));
    return errs;
  }
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = newPath('ports').index(i);
    const name = port.name ?? '';
    if (name.length > 0) errs.push(...validateDNS1123Label(name, p.child('name')));
    if (names.has(name)) errs.push(field.duplicate(p.child('name'), name));
    else names.add(name);
    if (port.protocol === undefined) errs.push(field.required(p.child('protocol'), ''));
    else if (!supportedPortProtocols.includes(port.protocol))
      errs.push(field.notSupported(p.child('protocol'), port.protocol, supportedPortProtocols));
    if (port.appProtocol !== undefined) {
      for (const msg of isQualifiedName(port.appProtocol))
        errs.push(field.invalid(p.child('appProtocol'), port.appProtocol, msg));
    }
  });
  return errs;
}

/** The strategy of discovery.k8s.io/v1 endpointslices. */
export const endpointSliceStrategy: ResourceStrategy = {
  ...baseStrategy('discovery.k8s.io', 'v1', 'endpointslices'),
  defaults(obj) {
    for (const port of typed<EndpointSlice>(obj).ports ?? []) {
      port.name ??= '';
      port.protocol ??= 'TCP';
    }
  },
  prepareForUpdate(obj, old) {
    // A change of labels counts as a new generation too (the store counted the rest).
    const meta = (obj.metadata ??= {});
    const prev = old.metadata ?? {};
    if (!semanticEqual(meta.labels, prev.labels) && meta.generation === prev.generation)
      meta.generation = (prev.generation ?? 0) + 1;
  },
  validate: (obj) => validateEndpointSlice(obj, supportedAddressTypes),
  validateUpdate(obj, old) {
    // Slices stored with the retired "IP" type may still be updated.
    const errs = [
      ...validateCoreObjectMetaUpdate(obj, old),
      ...validateEndpointSlice(obj, ['FQDN', 'IP', 'IPv4', 'IPv6']),
    ];
    errs.push(
      ...validateImmutableField(
        typed<EndpointSlice>(obj).addressType ?? '',
        typed<EndpointSlice>(old).addressType ?? '',
        newPath('addressType'),
      ),
    );
    return errs;
  },
};
