// placeholder: the agent lab's globalSetup
export default async function setup(): Promise<void> {}
