// The test kubelet stand-in as a process, for servers that run inside a test network namespace:
// `node --import tsx fake-kubelet-main.ts KUBECONFIG` with K8TS_FAKE_POD_IPS='{"pod-name":["ip",...]}'
// naming the addresses of the pods the test made (others get the default test addresses). Stops on SIGTERM.
import { nextTestPodIPs, startFakeKubelet } from './fake-kubelet.js';

const kubeconfig = process.argv[2];
if (!kubeconfig) throw new Error('usage: fake-kubelet-main.ts KUBECONFIG');
const ips = JSON.parse(process.env.K8TS_FAKE_POD_IPS ?? '{}') as Record<string, string[]>;
const stop = startFakeKubelet(kubeconfig, { podIPs: (pod) => ips[pod.metadata?.name ?? ''] ?? nextTestPodIPs() });
process.on('SIGTERM', () => void stop().then(() => process.exit(0)));
console.log('fake kubelet running');
