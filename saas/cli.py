"""``flask demo``: a ready-to-try tenant with an owner and two agents."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

import tenants
from tenants import provisioning, registry

from .models import AGENT, User
from .services import accounts, passwords

demo_cli = AppGroup("demo", help="The demo tenant.")

DEMO_SLUG = "demo"
# Demo logins are printed for the person running `make demo`; they guard nothing but local demo data.
DEMO_PASSWORD = "switchboard-demo"
DEMO_PEOPLE = [
    ("owner@demo.test", "Olivia Owner", "owner"),
    ("ada@demo.test", "Ada Agent", AGENT),
    ("bo@demo.test", "Bo Agent", AGENT),
]


def seed_demo() -> registry.TenantRef:
    provisioning.migrate_registry()
    tenant = registry.find_by_slug(DEMO_SLUG) or provisioning.create_tenant(DEMO_SLUG, "Acme Outdoor (demo)")
    provisioning.migrate_tenant(tenant)
    with tenants.tenant_context(tenant):
        session = tenants.tenant_session()
        for email, name, role in DEMO_PEOPLE:
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                accounts.add_user(session, email=email, display_name=name, password=DEMO_PASSWORD, role=role)
            else:
                user.password_hash = passwords.hash_password(DEMO_PASSWORD)
        session.commit()
    return tenant


@demo_cli.command("seed")
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True)
def seed(base_url):
    """Create (or refresh) the demo tenant and print its URLs and logins."""
    tenant = seed_demo()
    click.echo(f"""
Switchboard demo is ready.
  Demo website (visitor):  {base_url}/demo/{tenant.slug}
  Agent console:           {base_url}/t/{tenant.slug}/console/
  Admin (embed snippet):   {base_url}/t/{tenant.slug}/admin/
  Sign up a new tenant:    {base_url}/signup
  Logins (password '{DEMO_PASSWORD}'): {', '.join(email for email, _, _ in DEMO_PEOPLE)}
""")
