"""``flask tenants create|list|migrate|drop``."""
import click
from flask.cli import AppGroup

from . import provisioning, registry

tenants_cli = AppGroup("tenants", help="Create, list, migrate and drop tenants.")


def _existing(slug: str):
    tenant = registry.find_by_slug(slug)
    if tenant is None:
        raise click.ClickException(f"no tenant '{slug}'")
    return tenant


@tenants_cli.command("create")
@click.argument("slug")
@click.option("--name", default=None, help="Display name (defaults to the slug).")
def create(slug, name):
    """Create a tenant with its own migrated schema (or SQLite file)."""
    provisioning.migrate_registry()
    try:
        tenant = provisioning.create_tenant(slug, name or slug)
    except (registry.InvalidSlug, registry.TenantExists) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"created {tenant.slug} (widget key {tenant.widget_key})")


@tenants_cli.command("list")
def list_tenants():
    for tenant in registry.all_tenants():
        click.echo(f"{tenant.slug}\t{tenant.status}\t{tenant.name}")


@tenants_cli.command("migrate")
def migrate():
    """Upgrade the registry and every tenant schema to the newest revision."""
    for tenant in provisioning.migrate_all():
        click.echo(f"migrated {tenant.slug}")
    click.echo("all tenants are up to date")


@tenants_cli.command("drop")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def drop(slug, yes):
    """Drop a tenant's schema (or file) and its registry row. Irreversible."""
    tenant = _existing(slug)
    if not yes:
        click.confirm(f"Drop tenant '{slug}' and all of its data?", abort=True)
    provisioning.drop_tenant(tenant)
    click.echo(f"dropped {slug}")
