// Tables of the storage kinds: PersistentVolumes, PersistentVolumeClaims and StorageClasses.
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { ageColumn, column, nameColumn, printer } from './columns.js';
import { translateTimestampSince } from './human-duration.js';
import type { Printer } from './table.js';

// The class annotation that predates storageClassName, and still wins over it.
const betaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';
const defaultClassAnnotations = [
  'storageclass.kubernetes.io/is-default-class',
  'storageclass.beta.kubernetes.io/is-default-class',
];

/** Access modes abbreviated, in a fixed order whatever the object's order: RWO,ROX,RWX,RWOP. */
function accessModes(modes: readonly string[] | undefined): string {
  const abbreviations: [string, string][] = [
    ['ReadWriteOnce', 'RWO'],
    ['ReadOnlyMany', 'ROX'],
    ['ReadWriteMany', 'RWX'],
    ['ReadWriteOncePod', 'RWOP'],
  ];
  return abbreviations
    .filter(([mode]) => modes?.includes(mode))
    .map(([, short]) => short)
    .join(',');
}

/** A quantity as a cell; an absent one is zero. */
function quantity(value: string | undefined): string {
  return value ?? '0';
}

const persistentVolumePrinter = printer<PersistentVolume>(
  [{ group: '', kind: 'PersistentVolume' }],
  [
    nameColumn,
    column('Capacity', 'string', 'The size of the volume.'),
    column('Access Modes', 'string', 'How the volume can be mounted.'),
    column('Reclaim Policy', 'string', 'What happens to the volume when its claim goes away.'),
    column('Status', 'string', 'Available, Bound, Released or Failed.'),
    column('Claim', 'string', 'The claim bound to the volume, as namespace/name.'),
    column('StorageClass', 'string', 'The storage class of the volume.'),
    column('VolumeAttributesClass', 'string', 'The volume attributes class of the volume.'),
    column('Reason', 'string', 'Why the volume is in its phase.'),
    ageColumn,
    column('VolumeMode', 'string', 'Filesystem or Block.', { wide: true }),
  ],
  (pv, now) => {
    const claim = pv.spec?.claimRef
      ? `${pv.spec.claimRef.namespace ?? ''}/${pv.spec.claimRef.name ?? ''}`
      : '';
    const annotations = pv.metadata?.annotations ?? {};
    const storageClass = annotations[betaStorageClassAnnotation] ?? pv.spec?.storageClassName ?? '';
    return {
      cells: [
        pv.metadata?.name ?? '',
        quantity(pv.spec?.capacity?.['storage']),
        accessModes(pv.spec?.accessModes),
        pv.spec?.persistentVolumeReclaimPolicy ?? '',
        pv.metadata?.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? ''),
        claim,
        storageClass,
        pv.spec?.volumeAttributesClassName ?? '<unset>',
        pv.status?.reason ?? '',
        translateTimestampSince(pv.metadata?.creationTimestamp, now),
        pv.spec?.volumeMode ?? '<unset>',
      ],
    };
  },
);

const persistentVolumeClaimPrinter = printer<PersistentVolumeClaim>(
  [{ group: '', kind: 'PersistentVolumeClaim' }],
  [
    nameColumn,
    column('Status', 'string', 'Pending, Bound or Lost.'),
    column('Volume', 'string', 'The volume bound to the claim.'),
    column('Capacity', 'string', 'The size of the bound volume.'),
    column('Access Modes', 'string', 'How the bound volume can be mounted.'),
    column('StorageClass', 'string', 'The storage class the claim asks for.'),
    column('VolumeAttributesClass', 'string', 'The volume attributes class the claim asks for.'),
    ageColumn,
    column('VolumeMode', 'string', 'Filesystem or Block.', { wide: true }),
  ],
  (pvc, now) => {
    const annotations = pvc.metadata?.annotations ?? {};
    const storageClass = annotations[betaStorageClassAnnotation] ?? pvc.spec?.storageClassName ?? '';
    // Capacity and modes describe the bound volume, so they stay empty until there is one.
    const bound = Boolean(pvc.spec?.volumeName);
    return {
      cells: [
        pvc.metadata?.name ?? '',
        pvc.metadata?.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? ''),
        pvc.spec?.volumeName ?? '',
        bound ? quantity(pvc.status?.capacity?.['storage']) : '',
        bound ? accessModes(pvc.status?.accessModes) : '',
        storageClass,
        pvc.spec?.volumeAttributesClassName ?? '<unset>',
        translateTimestampSince(pvc.metadata?.creationTimestamp, now),
        pvc.spec?.volumeMode ?? '<unset>',
      ],
    };
  },
);

const storageClassPrinter = printer<StorageClass>(
  [{ group: 'storage.k8s.io', kind: 'StorageClass' }],
  [
    nameColumn,
    column('Provisioner', 'string', 'The volume plugin or driver that provisions volumes.'),
    column('ReclaimPolicy', 'string', 'What happens to provisioned volumes when released.'),
    column('VolumeBindingMode', 'string', 'Whether volumes bind at once or wait for a pod.'),
    column('AllowVolumeExpansion', 'string', 'Whether claims may grow.'),
    ageColumn,
  ],
  (sc, now) => {
    const annotations = sc.metadata?.annotations ?? {};
    const isDefault = defaultClassAnnotations.some((a) => annotations[a] === 'true');
    return {
      cells: [
        `${sc.metadata?.name ?? ''}${isDefault ? ' (default)' : ''}`,
        sc.provisioner,
        sc.reclaimPolicy ?? 'Delete',
        sc.volumeBindingMode ?? 'Immediate',
        sc.allowVolumeExpansion ?? false,
        translateTimestampSince(sc.metadata?.creationTimestamp, now),
      ],
    };
  },
);

/** Printers of the storage kinds. */
export const storagePrinters: readonly Printer[] = [
  persistentVolumePrinter,
  persistentVolumeClaimPrinter,
  storageClassPrinter,
];
