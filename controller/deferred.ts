// The modules a restarted controller's first action does not need, loaded in one place: the API
// (fastify, its routes and the dashboard's, the artifact store), bundle signing, the certificate library (CA hash),
// systemd notification (and OpenStack, only when configured). startController acts on pushes in doubt before it loads
// these (~1–3 s of module evaluation on a loaded machine; see bench P7).
export async function loadDeferred() {
  const [server, auth, artifactsRoutes, computeRoutes, rolloutsRoutes, artifacts, bundle, ca, notify, ui, forward] = await Promise.all([
    import('./api/server.js'),
    import('./api/auth.js'),
    import('./api/routes/artifacts.js'),
    import('./api/routes/compute-nodes.js'),
    import('./api/routes/rollouts.js'),
    import('./artifacts/store.js'),
    import('../protocol/bundle.js'),
    import('../pki/ca.js'),
    import('../systemd/notify.js'),
    import('./ui/routes.js'),
    import('./ui/forward.js'),
  ]);
  return {
    buildControllerServer: server.buildControllerServer,
    callerOf: auth.callerOf,
    artifactRoutes: artifactsRoutes.artifactRoutes,
    computeNodesRoutes: computeRoutes.computeNodesRoutes,
    rolloutRoutes: rolloutsRoutes.rolloutRoutes,
    ArtifactStore: artifacts.ArtifactStore,
    signBundle: bundle.signBundle,
    caCertHash: ca.caCertHash,
    createNotifier: notify.createNotifier,
    uiRoutes: ui.uiRoutes,
    leaderCommand: forward.leaderCommand,
  };
}

/** Only when controller.yaml names a cloud. */
export async function loadOpenstack() {
  const [cloud, connect, hypervisors] = await Promise.all([import('../openstack/config.js'), import('../openstack/connect.js'), import('./fleet/hypervisors.js')]);
  return { loadCloudConfig: cloud.loadCloudConfig, connectCompute: connect.connectCompute, HypervisorMapper: hypervisors.HypervisorMapper };
}

export type Deferred = Awaited<ReturnType<typeof loadDeferred>>;
