// placeholder: the ceph lab's globalSetup
export default async function setup(): Promise<void> {}
