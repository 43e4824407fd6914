#!/usr/bin/python3
"""Bootstrap and seed the lab Keystone in one process (keystone-manage's own code, idempotent).

  OS_BOOTSTRAP_PASSWORD=... seed.py KEYSTONE_CONF SECRETS_DIR REGION IDENTITY_URL COMPUTE_URL

= `keystone-manage bootstrap` (admin user/project/role, region, identity endpoints), then through
keystone's managers (as bootstrap does; ~20 HTTP calls cost ~20 s on this VM): projects service +
demo, users nova (admin + service on project service: validates tokens for nova-api's authtoken)
and demo (member on demo: a non-admin), and the compute service with public/internal/admin
endpoints at COMPUTE_URL. Passwords come from SECRETS_DIR/<user>.password, never argv.
"""
import sys
import uuid

from keystone.cmd import cli
from keystone.common import driver_hints
from keystone.common import provider_api
from keystone import exception

conf, secrets, region, identity_url, compute_url = sys.argv[1:6]
cli.main(argv=["keystone-manage", "--config-file", conf, "bootstrap",
               "--bootstrap-username", "admin", "--bootstrap-project-name", "admin",
               "--bootstrap-role-name", "admin", "--bootstrap-service-name", "keystone",
               "--bootstrap-region-id", region, "--bootstrap-public-url", identity_url,
               "--bootstrap-internal-url", identity_url, "--bootstrap-admin-url", identity_url])
P = provider_api.ProviderAPIs
DOMAIN = "default"


def password(user):
    with open(f"{secrets}/{user}.password") as f:
        return f.read().strip()


def project(name):
    try:
        pid = uuid.uuid4().hex
        return P.resource_api.create_project(pid, {"id": pid, "name": name, "domain_id": DOMAIN, "enabled": True,
                                                   "description": "nodewright lab"})["id"]
    except exception.Conflict:
        return P.resource_api.get_project_by_name(name, DOMAIN)["id"]


def role(name):
    hints = driver_hints.Hints()
    hints.add_filter("name", name)
    hints.add_filter("domain_id", None)
    found = P.role_api.list_roles(hints)
    if found:
        return found[0]["id"]
    rid = uuid.uuid4().hex
    return P.role_api.create_role(rid, {"id": rid, "name": name})["id"]


def user(name, project_id):
    try:
        u = P.identity_api.get_user_by_name(name, DOMAIN)
        return P.identity_api.update_user(u["id"], {"password": password(name), "enabled": True})["id"]
    except exception.UserNotFound:
        return P.identity_api.create_user({"name": name, "domain_id": DOMAIN, "enabled": True,
                                           "password": password(name), "default_project_id": project_id})["id"]


def grant(user_id, project_id, role_id):
    try:
        P.assignment_api.add_role_to_user_and_project(user_id=user_id, project_id=project_id, role_id=role_id)
    except exception.Conflict:
        pass


service_project, demo_project = project("service"), project("demo")
nova = user("nova", service_project)
grant(nova, service_project, role("admin"))
grant(nova, service_project, role("service"))
grant(user("demo", demo_project), demo_project, role("member"))

hints = driver_hints.Hints()
hints.add_filter("type", "compute")
services = P.catalog_api.list_services(hints)
if services:
    compute = services[0]["id"]
else:
    compute = uuid.uuid4().hex
    P.catalog_api.create_service(compute, {"id": compute, "name": "nova", "type": "compute", "enabled": True})
hints = driver_hints.Hints()
hints.add_filter("service_id", compute)
have = {e["interface"]: e for e in P.catalog_api.list_endpoints(hints)}
for iface in ("public", "internal", "admin"):
    e = have.get(iface)
    if e:
        P.catalog_api.update_endpoint(e["id"], {**e, "url": compute_url, "region_id": region})
    else:
        eid = uuid.uuid4().hex
        P.catalog_api.create_endpoint(eid, {"id": eid, "interface": iface, "url": compute_url, "service_id": compute,
                                            "region_id": region, "enabled": True})
print(f"bootstrap done; compute endpoint {compute_url} in {region}; users admin, nova (service), demo (member of demo)")
