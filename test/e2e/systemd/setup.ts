// placeholder: the systemd lab's globalSetup
export default async function setup(): Promise<void> {}
