// Manifests tests apply with kubectl.

/** A Deployment of nginx:1.25 whose pods must spread over hostnames, one per node (maxSkew 1, DoNotSchedule). */
export function spreadDeployment(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: ${name}}}}
      containers:
      - {name: ${name}, image: "nginx:1.25"}
`;
}
