// placeholder: the nova lab's globalSetup
export default async function setup(): Promise<void> {}
